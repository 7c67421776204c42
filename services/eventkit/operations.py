"""Operator actions on a service's store: verify, republish, parked outbox rows, rebuild."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from .bus import KafkaPublisher, read_topics_from_start
from .consumer import EventConsumer
from .envelope import utcnow
from .hashchain import VerifyReport, verify_events
from .service import Runtime
from .tables import OUTBOX_FAILED, OUTBOX_IN_PROGRESS, OUTBOX_PENDING


def verify(rt: Runtime) -> VerifyReport:
    with rt.reading() as conn:
        return verify_events(rt.store.read_streams_in_order(conn))


def republish(rt: Runtime) -> int:
    """Queue every stored event for the relay again, in store order (consumers' inboxes drop repeats).

    Rows still waiting are replaced rather than kept, so each stream goes out in version order;
    parked rows stay parked (their events are not queued twice).
    """
    outbox = rt.service.tables.outbox
    count = 0
    with rt.engine.begin() as conn:
        conn.execute(
            outbox.delete().where(outbox.c.state.in_([OUTBOX_PENDING, OUTBOX_IN_PROGRESS]))
        )
        parked = set(
            conn.execute(
                sa.select(outbox.c.event_id).where(outbox.c.state == OUTBOX_FAILED)
            ).scalars()
        )
        batch = []
        for _, event in rt.store.read_all(conn, upcast=False):
            if event.event_id in parked:
                continue
            batch.append(event)
            if len(batch) == 1000:
                rt.store.enqueue(conn, batch)
                count += len(batch)
                batch = []
        if batch:
            rt.store.enqueue(conn, batch)
            count += len(batch)
    return count


def parked_rows(rt: Runtime) -> list[dict]:
    """Outbox rows the broker refused for good, oldest first, with their error."""
    outbox = rt.service.tables.outbox
    with rt.reading() as conn:
        rows = conn.execute(
            sa.select(
                outbox.c.id,
                outbox.c.event_id,
                outbox.c.message_key,
                sa.func.length(outbox.c.message).label("size"),
                outbox.c.attempts,
                outbox.c.last_error,
                outbox.c.updated_at,
            )
            .where(outbox.c.state == OUTBOX_FAILED)
            .order_by(outbox.c.id)
        ).all()
    return [
        {
            "id": r.id,
            "event_id": r.event_id,
            "stream_id": r.message_key,
            "bytes": r.size,
            "attempts": r.attempts,
            "error": r.last_error,
            "parked_at": str(r.updated_at),
        }
        for r in rows
    ]


def retry_parked(rt: Runtime, row_ids: Sequence[int] = ()) -> int:
    """Queue parked rows again (all of them, or those named); the relay tries them next."""
    outbox = rt.service.tables.outbox
    query = outbox.update().where(outbox.c.state == OUTBOX_FAILED)
    if row_ids:
        query = query.where(outbox.c.id.in_(list(row_ids)))
    with rt.engine.begin() as conn:
        return conn.execute(query.values(state=OUTBOX_PENDING, updated_at=utcnow())).rowcount


def rebuild_own(rt: Runtime) -> int:
    """Empty the read models of the service's own events and replay its store into them."""
    count = 0
    with rt.engine.begin() as conn:
        for projection in rt.service.projections:
            projection.clear(conn)
        for _, event in rt.store.read_all(conn):
            for projection in rt.service.projections:
                projection.apply(conn, event)
            count += 1
    return count


def rebuild_from_topics(rt: Runtime, bootstrap: str) -> int:
    """Empty the read models fed by other services and replay their topics (stop the worker first)."""
    service = rt.service
    topics = service.subscriptions
    with rt.engine.begin() as conn:
        for projection in service.consumers:
            projection.clear(conn)
        conn.execute(service.tables.inbox.delete().where(service.tables.inbox.c.source.in_(topics)))
    dlq = KafkaPublisher(bootstrap, client_id=f"tandem-{service.name}-rebuild")
    consumer = EventConsumer(
        rt.engine, service.tables, service.reading_registry(), service.consumers, dlq
    )
    count, batch = 0, []
    try:
        for message in read_topics_from_start(bootstrap, topics):
            batch.append(message)
            if len(batch) == 500:
                consumer.handle_batch(batch)
                count += len(batch)
                batch = []
        if batch:
            consumer.handle_batch(batch)
            count += len(batch)
    finally:
        dlq.close()
    return count
