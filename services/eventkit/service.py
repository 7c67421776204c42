"""What a service declares about itself, and the runtime built from it (store, engine, topics)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from . import config, rls
from .aggregate import Aggregate
from .catalogue import check_handled
from .db import make_engine, reading
from .envelope import Metadata
from .projections import Projection
from .registry import Registry
from .store import EventStore
from .tables import KitTables
from .unit_of_work import UnitOfWork


@dataclasses.dataclass
class Service:
    """The declaration each service module makes: its tables, events, projections and API."""

    name: str
    metadata: sa.MetaData
    tables: KitTables
    registry: Registry  # the events this service writes
    projections: Sequence[Projection] = ()  # own-store read models, applied inline
    consumers: Sequence[Projection] = ()  # read models fed by other services' topics
    contracts: Sequence[Registry] = ()  # other services' event contracts it reads (for upcasting)
    blueprints: Callable[[], Sequence[Any]] = lambda: ()
    migrations: Path | None = None
    title: str = ""
    stats_tables: Sequence[sa.Table] = ()  # read models counted by GET /api/stats
    # Loops the worker runs beside its relay and consumer (timers, senders); each returns when
    # the event is set.
    background: Sequence[Callable[[Runtime, threading.Event], None]] = ()

    def __post_init__(self) -> None:
        # Own read models see the service's own events; consumers also its contracts'.
        own, reading = self.registry.names(), self.reading_registry().names()
        for projection in self.projections:
            check_handled(f"{self.name}: projection {projection.name!r}", projection.handlers, own)
        for consumer in self.consumers:
            check_handled(f"{self.name}: consumer {consumer.name!r}", consumer.handlers, reading)

    @property
    def topic(self) -> str:
        return config.topic(self.name)

    @property
    def subscriptions(self) -> list[str]:
        return sorted({t for p in self.consumers for t in p.subscribed_topics()})

    def topics(self) -> list[str]:
        """Every topic this service touches: its own, what it reads, and the dead-letter topics."""
        return [self.topic, *self.subscriptions, *(config.dlq_topic(t) for t in self.subscriptions)]

    def event_store(self) -> EventStore:
        return EventStore(self.tables, self.registry, self.topic, self.projections)

    def reading_registry(self) -> Registry:
        registry = Registry()
        registry.include(self.registry)
        for contract in self.contracts:
            registry.include(contract)
        return registry


class Runtime:
    """A service bound to its database: what the API and the worker share."""

    def __init__(self, service: Service, database_url: str | None = None) -> None:
        self.service = service
        self.engine = make_engine(database_url or config.database_url(service.name))
        rls.use_app_role(self.engine)  # neither owner nor superuser, so the policies hold
        self.store = service.event_store()

    def reading(self) -> sa.Connection:
        """A read-only connection (use `engine.begin()` for anything that writes)."""
        return reading(self.engine)

    def load(self, conn: sa.Connection, cls: type[Aggregate], aggregate_id: str):
        return UnitOfWork(conn, self.store).load(cls, aggregate_id)

    def save(self, conn: sa.Connection, aggregate: Aggregate, meta: Metadata) -> list:
        return self.save_all(conn, [aggregate], meta)

    def save_all(
        self, conn: sa.Connection, aggregates: Sequence[Aggregate], meta: Metadata
    ) -> list:
        """Store every aggregate's pending events in one batch: all or nothing."""
        return UnitOfWork(conn, self.store).save_all(aggregates, meta)
