"""What a worker's /metrics reads at scrape time: its store, outbox, inbox and what its broker
watch last measured (consumer lag per partition) and the sizes of its dead-letter topics.

Read from the database, so the numbers are the service's, whichever process appended or
consumed: events appended per type (a counter, the store being append-only), the outbox backlog,
the oldest waiting row's age and parked rows, and the projections' positions.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol

import sqlalchemy as sa
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from . import rls
from .db import reading
from .relay import relay_status
from .tables import KitTables

log = logging.getLogger(__name__)


class Watch(Protocol):
    """What the collector reads of the worker's broker watch."""

    lag_by_partition: dict[tuple[str, int], int]
    losses: int
    reachable: bool


class PipelineCollector(Collector):
    def __init__(
        self,
        service: str,
        engine: sa.Engine,
        tables: KitTables,
        watch: Watch,
        dlq_sizes: dict[str, int],
        stuck_after_s: int,
    ) -> None:
        self.service = service
        self.engine = engine
        self.tables = tables
        self.watch = watch
        self.dlq_sizes = dlq_sizes
        self.stuck_after_s = stuck_after_s

    def collect(self) -> Iterator[Metric]:
        yield from self._broker()
        try:
            with rls.scoped(rls.UNRESTRICTED):
                yield from self._outbox()
                yield from self._store()
        except sa.exc.SQLAlchemyError as exc:  # the database away: say so, keep the rest
            log.warning("metrics: the database did not answer: %r", exc)
            yield self._gauge("tandem_database_up", "Whether the database answered.", 0)
        else:
            yield self._gauge("tandem_database_up", "Whether the database answered.", 1)

    def _gauge(self, name: str, doc: str, value: float | None) -> GaugeMetricFamily:
        family = GaugeMetricFamily(name, doc, labels=["service"])
        if value is not None:
            family.add_metric([self.service], value)
        return family

    def _outbox(self) -> Iterator[Metric]:
        status = relay_status(self.engine, self.tables.outbox, self.stuck_after_s)
        yield self._gauge(
            "tandem_outbox_backlog", "Outbox rows waiting to be published.", status.backlog
        )
        yield self._gauge(
            "tandem_outbox_oldest_pending_seconds",
            "Age of the oldest outbox row still waiting (0 when none waits).",
            status.oldest_pending_s or 0.0,
        )
        yield self._gauge(
            "tandem_outbox_parked",
            "Outbox rows the broker refused for good; an operator re-drives or skips them.",
            status.parked,
        )
        yield self._gauge(
            "tandem_relay_stuck",
            "1 when rows wait past TANDEM_RELAY_STUCK_S with nothing published, or rows are parked.",
            int(status.stuck),
        )

    def _store(self) -> Iterator[Metric]:
        events, inbox = self.tables.events, self.tables.inbox
        appended = CounterMetricFamily(
            "tandem_events_appended",
            "Events appended to the service's store, by event type.",
            labels=["service", "event_type"],
        )
        consumed = GaugeMetricFamily(
            "tandem_inbox_events",
            "Events of other services applied to this service's read models, by source topic.",
            labels=["service", "topic"],
        )
        with reading(self.engine) as conn:
            by_type = conn.execute(
                sa.select(events.c.event_type, sa.func.count()).group_by(events.c.event_type)
            ).all()
            position = conn.execute(sa.select(sa.func.max(events.c.position))).scalar()
            by_source = conn.execute(
                sa.select(inbox.c.source, sa.func.count()).group_by(inbox.c.source)
            ).all()
        for event_type, count in sorted(by_type):
            appended.add_metric([self.service, event_type], count)
        for topic, count in sorted(by_source):
            consumed.add_metric([self.service, topic], count)
        yield appended
        yield consumed
        yield self._gauge(
            "tandem_projection_position",
            "Store position of the last event the service's own projections have applied.",
            position or 0,
        )

    def _broker(self) -> Iterator[Metric]:
        yield self._gauge(
            "tandem_broker_up",
            "Whether the broker answered the last check.",
            int(self.watch.reachable),
        )
        yield self._gauge(
            "tandem_broker_losses",
            "Times the broker was seen to lose its topics since the worker started.",
            self.watch.losses,
        )
        lag = GaugeMetricFamily(
            "tandem_consumer_lag",
            "Messages on a subscribed partition not yet consumed by the service.",
            labels=["service", "topic", "partition"],
        )
        for (topic, partition), behind in sorted(self.watch.lag_by_partition.items()):
            lag.add_metric([self.service, topic, str(partition)], behind)
        yield lag
        dlq = GaugeMetricFamily(
            "tandem_dlq_messages",
            "Messages on a dead-letter topic the service writes to.",
            labels=["service", "topic"],
        )
        for topic, size in sorted(self.dlq_sizes.items()):
            dlq.add_metric([self.service, topic], size)
        yield dlq
