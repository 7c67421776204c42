"""Pairing engine: stable matching on pools of several shapes (see bench/pairing_shapes.py),
each timed as the median of several runs beside a bare deferred acceptance on the same lists and
the `matching` package, and checked to give the same pairs as both; then the engine's part of a
cycle's run on a roster-sized pool; with --large, stable and optimal on one large pool with peak
traced memory. Instance generation is never timed. One JSON object a line, the summary last."""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import resource
import sys
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable
from statistics import median
from typing import Any

from bench.pairing_shapes import (
    SHAPES,
    Shape,
    bare_deferred_acceptance,
    roster_pool,
    shaped_instance,
)
from services.pairing.engine import Result, optimal, preference_lists, stable

HELP = "time stable pairing on pools of several shapes; compare with a bare algorithm, `matching`"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--shapes", nargs="+", choices=list(SHAPES), default=list(SHAPES), metavar="SHAPE",
        help=f"stable-matching instances to time (default all: {', '.join(SHAPES)})",
    )  # fmt: skip
    parser.add_argument(
        "--scale", type=float, default=1.0,
        help="multiply every shape's mentees and mentors (0.25: the 20000 x 8000 shapes at the "
        "5000 x 2000 size `matching` can be timed on)",
    )  # fmt: skip
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument(
        "--peer-max-mentees", type=int, default=5_000,
        help="time `matching` on shapes up to this many mentees (default 5000: it takes minutes "
        "a run on the larger ones, whose pairs are checked against the bare algorithm)",
    )  # fmt: skip
    parser.add_argument(
        "--peer-runs", type=int, default=None,
        help="timed runs of `matching`, which takes seconds a run (default: --runs)",
    )  # fmt: skip
    parser.add_argument("--roster", type=int, default=5_000, help="people in a cycle's run")
    parser.add_argument(
        "--large", action="store_true",
        help="also time stable (ranked, scored) and optimal on a 20000 x 8000 pool",
    )  # fmt: skip
    parser.add_argument("--mentees", type=int, default=20_000, help="--large pool (20000)")
    parser.add_argument("--mentors", type=int, default=8_000, help="--large pool (8000)")
    parser.add_argument("--candidates", type=int, default=50, help="optimal: per mentee")
    parser.add_argument("--seed", type=int, default=7)


def timed(call: Callable[[], Any], repeat: int = 3) -> tuple[Any, float]:
    """The result and the best time of `repeat` calls: the machine may be busy with others."""
    value, times = timings(call, repeat)
    return value, min(times)


def timings(call: Callable[[], Any], repeat: int) -> tuple[Any, list[float]]:
    times = []
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        value = call()
        times.append(time.perf_counter() - started)
    return value, times


def traced_peak_mb(call: Callable[[], Any]) -> float:
    """Peak Python and numpy allocation during a second, traced call (tracing slows it down)."""
    gc.collect()
    tracemalloc.start()
    call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def peer_stable(
    prefs: tuple[dict[str, list[str]], dict[str, list[str]], dict[str, int]],
) -> tuple[set[tuple[str, str]], float]:
    """`matching`'s resident-optimal hospital/residents on the engine's own preference lists:
    its pairs and the seconds it took."""
    from matching.games import HospitalResident

    mentee_prefs, mentor_prefs, capacities = prefs
    out: dict[str, Any] = {}

    def solve() -> None:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            game = HospitalResident.create_from_dictionaries(mentee_prefs, mentor_prefs, capacities)
            matching = game.solve(optimal="resident")
        out["seconds"] = time.perf_counter() - started
        out["pairs"] = {(r.name, h.name) for h, rs in matching.items() for r in rs}

    # It copies its players recursively: give it the depth, and a thread stack to match.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 200_000))
    threading.stack_size(512 * 2**20)
    worker = threading.Thread(target=solve)
    worker.start()
    worker.join()
    threading.stack_size(0)
    if "pairs" not in out:
        raise SystemExit("the matching package failed on the comparison instance")
    return out["pairs"], out["seconds"]


def shape_figures(shape: Shape, seed: int, runs: int, peer_runs: int) -> dict[str, Any]:
    """Stable matching (ranked lists, explanations included) on one shape: the median of `runs`
    runs of the engine and of a bare deferred acceptance on the same lists, taken in turns so
    both meet the same load, and of `peer_runs` runs of `matching`."""
    mentees, mentors = shaped_instance(shape, seed)
    prefs = preference_lists(mentees, mentors, use_scores_for_unranked=False)
    engine_s: list[float] = []
    bare_s: list[float] = []
    peer_s: list[float] = []
    agree = True
    for k in range(max(runs, peer_runs)):
        if k < runs:
            result, seconds = timings(
                lambda: stable(mentees, mentors, use_scores_for_unranked=False), 1
            )
            engine_s += seconds
            bare, seconds = timings(lambda: bare_deferred_acceptance(*prefs), 1)
            bare_s += seconds
            agree = agree and result.pair_ids() == bare
        if k < peer_runs:
            peer, seconds = peer_stable(prefs)
            peer_s.append(seconds)
            agree = agree and result.pair_ids() == peer
    engine, plain = median(engine_s), median(bare_s)
    figures: dict[str, Any] = {
        "shape": shape.name,
        "mentees": len(mentees),
        "mentors": len(mentors),
        "places": sum(m.capacity for m in mentors),
        "pairs": len(result.pairs),
        "unmatched": len(result.unmatched),
        "engine_median_s": round(engine, 4),
        "bare_median_s": round(plain, 4),
        "engine_vs_bare": round(engine / plain, 2),
    }
    if peer_s:
        figures["matching_median_s"] = round(median(peer_s), 3)
        figures["matching_vs_engine"] = round(median(peer_s) / engine, 1)
    figures |= {"runs": runs, "peer_runs": peer_runs, "identical_pairs": agree}
    return figures


def run_figures(people: int, seed: int, runs: int, profiles: bool) -> dict[str, Any]:
    """The engine's part of a cycle's pairing run (what `run_engine` calls for a stable run:
    lists extended by score, explanations included) on a roster-sized pool."""
    mentees, mentors = roster_pool(people, seed, profiles=profiles)
    result, seconds = timings(lambda: stable(mentees, mentors), runs)
    return {
        "run": "profiles" if profiles else "roster",
        "people": people,
        "pairs": len(result.pairs),
        "unmatched": len(result.unmatched),
        "engine_median_s": round(median(seconds), 3),
        "engine_max_s": round(max(seconds), 3),
        "runs": runs,
    }


def large_figures(args: argparse.Namespace) -> dict[str, Any]:
    """Stable (ranked, then scored) and optimal on one large pool, best of a few runs."""
    shape = Shape("large", args.mentees, args.mentors, popularity=1.5)
    mentees, mentors = shaped_instance(shape, args.seed)
    figures: dict[str, Any] = {"large": f"{len(mentees)} mentees x {len(mentors)} mentors"}

    def run_stable() -> Result:
        return stable(mentees, mentors, use_scores_for_unranked=False)

    result, seconds = timed(run_stable)
    figures["stable_large_s"] = round(seconds, 3)
    figures["stable_large_pairs"] = len(result.pairs)
    figures["stable_large_blocking_pairs"] = result.blocking_pairs
    figures["stable_large_peak_mb"] = round(traced_peak_mb(run_stable), 1)
    result, seconds = timed(lambda: stable(mentees, mentors))
    figures["stable_large_scored_s"] = round(seconds, 3)
    figures["stable_large_scored_blocking_pairs"] = result.blocking_pairs

    def run_optimal() -> Result:
        return optimal(mentees, mentors, candidates_per_mentee=args.candidates)

    result, seconds = timed(run_optimal, repeat=1)
    figures["optimal_large_s"] = round(seconds, 3)
    figures["optimal_large_pairs"] = len(result.pairs)
    figures["optimal_large_total_score"] = round(result.total_score, 3)
    figures["optimal_large_peak_mb"] = round(traced_peak_mb(run_optimal), 1)
    return figures


def run(args: argparse.Namespace) -> int:
    """One JSON object per shape and per run pool as each is done, then a summary object."""
    peer_runs = args.runs if args.peer_runs is None else args.peer_runs
    summary: dict[str, Any] = {}
    for name in args.shapes:
        shape = SHAPES[name]
        if args.scale != 1:
            shape = dataclasses.replace(
                shape,
                mentees=round(shape.mentees * args.scale),
                mentors=round(shape.mentors * args.scale),
            )
        peers = peer_runs if shape.mentees <= args.peer_max_mentees else 0
        figures = shape_figures(shape, args.seed, args.runs, peers)
        print(json.dumps(figures), flush=True)
        summary[f"{name}_engine_vs_bare"] = figures["engine_vs_bare"]
        if "matching_vs_engine" in figures:
            summary[f"{name}_matching_vs_engine"] = figures["matching_vs_engine"]
        summary["identical_pairs"] = (
            summary.get("identical_pairs", True) and figures["identical_pairs"]
        )
    for profiles in (False, True):
        figures = run_figures(args.roster, args.seed, args.runs, profiles)
        print(json.dumps(figures), flush=True)
        summary[f"run_{figures['run']}_engine_median_s"] = figures["engine_median_s"]
    if args.large:
        summary |= large_figures(args)
    summary["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(summary))
    return 0
