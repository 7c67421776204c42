"""One transaction of a use case: its connection, the event store, the clock, and how the events
it appends are attributed (`meta`: the request's actor, or the worker)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import sqlalchemy as sa

from services.eventkit import Aggregate, EventStore, Metadata, Runtime
from services.eventkit.envelope import utcnow

Clock = Callable[[], dt.datetime]
Meta = Callable[[str | None], Metadata]  # the institution the events are about -> their metadata
A = TypeVar("A", bound=Aggregate)


@dataclasses.dataclass
class UnitOfWork:
    conn: sa.Connection
    store: EventStore
    clock: Clock = utcnow
    meta: Meta = Metadata

    def load(self, cls: type[A], aggregate_id: str) -> A:
        return cls.rehydrate(
            aggregate_id, self.store.load(self.conn, cls.stream_id_for(aggregate_id))
        )

    def save(self, aggregate: Aggregate, institution_id: str | None) -> None:
        """Append the aggregate's new events, expecting the version it was loaded at."""
        if not aggregate.pending:
            return
        meta = self.meta(institution_id)
        self.store.append_batch(
            self.conn, [(aggregate.stream_id, aggregate.pending, aggregate.version)], meta
        )
        aggregate.version += len(aggregate.pending)
        aggregate.pending = []


@contextmanager
def unit_of_work(
    runtime: Runtime, clock: Clock = utcnow, meta: Meta = Metadata
) -> Iterator[UnitOfWork]:
    """A unit of work in its own transaction: committed when the block ends, else rolled back."""
    with runtime.engine.begin() as conn:
        yield UnitOfWork(conn, runtime.store, clock, meta)
