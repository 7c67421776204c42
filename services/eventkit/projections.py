"""Read models: handlers per event type, and the tables a rebuild empties before replaying."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from . import config
from .envelope import Envelope

Handler = Callable[[sa.Connection, Envelope], None]


@dataclasses.dataclass
class Projection:
    """A read model. With neither `sources` nor `topics` it follows the service's own store
    (applied inline); otherwise its consumer reads those services' topics (or the raw topics)."""

    name: str
    tables: Sequence[sa.Table]
    handlers: dict[str, Handler] = dataclasses.field(default_factory=dict)
    topics: Sequence[str] = ()
    sources: Sequence[str] = ()  # service names; their topics are resolved when asked for

    def subscribed_topics(self) -> list[str]:
        # Resolved now, not at import, so KAFKA_TOPIC_PREFIX is read when the worker starts.
        return [*self.topics, *(config.topic(source) for source in self.sources)]

    def on(self, *event_types: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            for event_type in event_types:
                self.handlers[event_type] = handler
            return handler

        return register

    def handles(self, event_type: str) -> bool:
        return event_type in self.handlers

    def apply(self, conn: sa.Connection, event: Envelope) -> None:
        handler = self.handlers.get(event.event_type)
        if handler is not None:
            handler(conn, event)

    def clear(self, conn: sa.Connection) -> None:
        # Children before parents, so foreign keys hold while emptying.
        for table in reversed(self.tables):
            conn.execute(table.delete())
