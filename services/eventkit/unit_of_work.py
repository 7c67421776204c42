"""One transaction of a use case: its connection, the event store and the clock. Routes, consumers
and worker loops open one and pass it to the service's use cases; tests pass their own clock."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Sequence
from typing import TypeVar

import sqlalchemy as sa

from .aggregate import Aggregate
from .envelope import Envelope, Metadata, utcnow
from .store import EventStore

Clock = Callable[[], dt.datetime]
A = TypeVar("A", bound=Aggregate)


@dataclasses.dataclass
class UnitOfWork:
    conn: sa.Connection
    store: EventStore
    clock: Clock = utcnow

    def load(self, cls: type[A], aggregate_id: str) -> A:
        stream_id = cls.stream_id_for(aggregate_id)
        if cls.snapshot_after:
            found = self.store.snapshot(self.conn, stream_id, cls.snapshot_kind())
            restored = found and cls.restore(aggregate_id, found.state, found.version)
            if restored is not None:
                after = self.store.load(self.conn, stream_id, after_version=restored.version)
                return restored.folded(after)
        return cls.rehydrate(aggregate_id, self.store.load(self.conn, stream_id))

    def read_part(self, cls: type[A], aggregate_id: str, event_types: Collection[str]) -> A:
        """The aggregate as far as events of these types make it, for a query that needs only
        that part of its state (a long stream is not replayed whole). Never saved: its version
        is not the stream's, so a save would be refused as a concurrent change."""
        stream_id = cls.stream_id_for(aggregate_id)
        return cls.rehydrate(aggregate_id, self.store.load(self.conn, stream_id, event_types))

    def save(self, aggregate: Aggregate, meta: Metadata, check_version: bool = True) -> None:
        """Append the aggregate's new events. `check_version=False` for events that commute with
        whatever else was appended meanwhile (a read mark, a delivery's outcome)."""
        if not aggregate.pending:
            return
        expected = aggregate.version if check_version else None
        stored = self.store.append(
            self.conn, aggregate.stream_id, aggregate.pending, expected, meta
        )
        # As loaded plus what it added, even without the check: a later checked save then sees
        # others' events in between as the concurrent change they are.
        aggregate.version += len(aggregate.pending)
        # Without the version check, others' events may lie between: the state is not the
        # stream's at this version, so it is not kept.
        snapshot = check_version and any(
            e.event_type in aggregate.snapshot_after for e in aggregate.pending
        )
        aggregate.pending = []
        if snapshot:
            self.store.take_snapshot(
                self.conn, stored[-1], aggregate.snapshot_kind(), aggregate.snapshot_state()
            )

    def save_all(self, aggregates: Sequence[Aggregate], meta: Metadata) -> list[Envelope]:
        """Every aggregate's new events in one batch, each at the version it was loaded at: all
        are stored, or none. Returns the stored events as readers see them."""
        changed = [a for a in aggregates if a.pending]
        stored = self.store.append_batch(
            self.conn, [(a.stream_id, a.pending, a.version) for a in changed], meta
        )
        for aggregate in changed:
            aggregate.version += len(aggregate.pending)
            aggregate.pending = []
        return stored
