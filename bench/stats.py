"""Pure helpers for benchmark figures: percentiles, latency summaries, rates."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable, Mapping, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default method)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    return _percentile_sorted(sorted(values), q)


def _percentile_sorted(ordered: Sequence[float], q: float) -> float:
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclasses.dataclass(frozen=True)
class Summary:
    count: int
    min: float
    mean: float
    p50: float
    p90: float
    p99: float
    max: float


def summarize(values: Sequence[float]) -> Summary:
    """Count, extremes, mean and the usual percentiles of a non-empty sample."""
    if not values:
        raise ValueError("summary of no values")
    ordered = sorted(values)  # once, not once per percentile
    return Summary(
        count=len(ordered),
        min=ordered[0],
        mean=math.fsum(ordered) / len(ordered),
        p50=_percentile_sorted(ordered, 50),
        p90=_percentile_sorted(ordered, 90),
        p99=_percentile_sorted(ordered, 99),
        max=ordered[-1],
    )


def latencies_ms(sent: Mapping[Hashable, float], arrived: Mapping[Hashable, float]) -> list[float]:
    """Milliseconds from send to arrival for each sent key; one that never arrived is an error."""
    missing = [key for key in sent if key not in arrived]
    if missing:
        raise ValueError(f"{len(missing)} of {len(sent)} never arrived")
    return [(arrived[key] - sent[key]) * 1000 for key in sent]


def per_second(count: int, seconds: float) -> float:
    """A rate; refuses an empty interval rather than report an infinite one."""
    if seconds <= 0:
        raise ValueError(f"rate over a non-positive interval ({seconds} s)")
    return count / seconds
