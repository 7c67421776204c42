"""One transaction of a use case: the event kit's unit of work, which also knows how the events it
appends are attributed (`meta`: the request's actor, or the worker), so use cases name only the
institution their events are about."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from services.eventkit import Aggregate, Metadata, Runtime
from services.eventkit import unit_of_work as kit
from services.eventkit.envelope import utcnow
from services.eventkit.unit_of_work import Clock

Meta = Callable[[str | None], Metadata]  # the institution the events are about -> their metadata

__all__ = ["Clock", "Meta", "UnitOfWork", "unit_of_work"]


@dataclasses.dataclass
class UnitOfWork(kit.UnitOfWork):
    meta: Meta = Metadata

    def save_about(self, aggregate: Aggregate, institution_id: str | None) -> None:
        """Append the aggregate's new events, about `institution_id`, at the version it was
        loaded at."""
        self.save(aggregate, self.meta(institution_id))


@contextmanager
def unit_of_work(
    runtime: Runtime, clock: Clock = utcnow, meta: Meta = Metadata
) -> Iterator[UnitOfWork]:
    """A unit of work in its own transaction: committed when the block ends, else rolled back."""
    with runtime.engine.begin() as conn:
        yield UnitOfWork(conn, runtime.store, clock, meta)
