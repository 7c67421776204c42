"""Tamper evidence: each event's hash covers the previous event's hash in its stream."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from .envelope import GENESIS_HASH, Envelope


@dataclasses.dataclass(frozen=True)
class ChainBreak:
    stream_id: str
    stream_version: int
    event_id: str
    reason: str
    seq: int | None = None  # the event's place in the store-wide sequence, where known

    def __str__(self) -> str:
        if not self.stream_id:
            return self.reason
        return f"stream {self.stream_id} v{self.stream_version} ({self.event_id}): {self.reason}"


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    events_checked: int
    streams_checked: int
    first_break: ChainBreak | None
    sealed_through: int = 0  # the last event of the store's sequence whose seal holds
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_events(events: Iterable[Envelope]) -> VerifyReport:
    """Walk events (any interleaving of streams, each stream in version order) and find the first break."""
    last: dict[str, tuple[int, str]] = {}
    count = 0
    for event in events:
        count += 1
        version, prev_hash = last.get(event.stream_id, (0, GENESIS_HASH))
        reason = None
        if event.stream_version != version + 1:
            reason = f"expected version {version + 1}, found {event.stream_version}"
        elif event.prev_hash != prev_hash:
            reason = "previous-hash link does not match the preceding event"
        elif event.compute_hash() != event.hash:
            reason = "content does not match its hash"
        if reason:
            found = ChainBreak(event.stream_id, event.stream_version, event.event_id, reason)
            return VerifyReport(count, len(last) + (event.stream_id not in last), found)
        last[event.stream_id] = (event.stream_version, event.hash)
    return VerifyReport(count, len(last), None)
