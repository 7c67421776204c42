"""Read models: handlers per event type, and the tables a rebuild empties before replaying."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterable, Sequence

import sqlalchemy as sa

from . import config
from .envelope import Envelope

Handler = Callable[[sa.Connection, Envelope], None]
# Several events of one type at once, with the same effect as their handler applied one by one.
BatchHandler = Callable[[sa.Connection, Sequence[Envelope]], None]


@dataclasses.dataclass
class Projection:
    """A read model. With neither `sources` nor `topics` it follows the service's own store
    (applied inline); otherwise its consumer reads those services' topics (or the raw topics)."""

    name: str
    tables: Sequence[sa.Table]
    handlers: dict[str, Handler] = dataclasses.field(default_factory=dict)
    # Set-based versions of some handlers: a roster import's thousand PersonRegistered events
    # become a few statements instead of a thousand round trips.
    batch_handlers: dict[str, BatchHandler] = dataclasses.field(default_factory=dict)
    topics: Sequence[str] = ()
    sources: Sequence[str] = ()  # service names; their topics are resolved when asked for

    def subscribed_topics(self) -> list[str]:
        # Resolved now, not at import, so KAFKA_TOPIC_PREFIX is read when the worker starts.
        return [*self.topics, *(config.topic(source) for source in self.sources)]

    def on(self, *event_types: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for event_type in event_types:
                self.handlers[event_type] = handler
                self.batch_handlers.pop(event_type, None)  # it would bypass the new handler
            return handler

        return register

    def handles(self, event_type: str) -> bool:
        return event_type in self.handlers or event_type in self.batch_handlers

    def apply(self, conn: sa.Connection, event: Envelope) -> None:
        handler = self.handlers.get(event.event_type)
        if handler is not None:
            handler(conn, event)

    def apply_many(self, conn: sa.Connection, events: Sequence[Envelope]) -> None:
        """Events of one type, in order."""
        if not events:
            return
        batch = self.batch_handlers.get(events[0].event_type)
        if batch is not None and len(events) > 1:
            batch(conn, events)
            return
        for event in events:
            self.apply(conn, event)

    def clear(self, conn: sa.Connection) -> None:
        # Children before parents, so foreign keys hold while emptying.
        for table in reversed(self.tables):
            conn.execute(table.delete())


def runs_of_one_type(events: Iterable[Envelope]) -> list[list[Envelope]]:
    """Consecutive events of the same type, grouped, in order."""
    return [list(run) for _, run in itertools.groupby(events, key=lambda e: e.event_type)]


def apply_events(
    conn: sa.Connection, projections: Sequence[Projection], events: Sequence[Envelope]
) -> None:
    """Apply events in order: each run of one type goes to every projection in turn (through
    its batch handler where it has one). Projections keep tables of their own, so which of two
    projections sees a run first changes nothing."""
    for run in runs_of_one_type(events):
        for projection in projections:
            projection.apply_many(conn, run)
