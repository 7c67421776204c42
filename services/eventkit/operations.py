"""Operator actions on a service's store: verify, republish, rebuild."""

from __future__ import annotations

from .bus import KafkaPublisher, read_topics_from_start
from .consumer import EventConsumer
from .hashchain import VerifyReport, verify_events
from .service import Runtime


def verify(rt: Runtime) -> VerifyReport:
    with rt.reading() as conn:
        return verify_events(rt.store.read_streams_in_order(conn))


def republish(rt: Runtime) -> int:
    """Queue every stored event for the relay again, in store order (consumers' inboxes drop repeats)."""
    count = 0
    with rt.engine.begin() as conn:
        batch = []
        for _, event in rt.store.read_all(conn, upcast=False):
            batch.append(event)
            if len(batch) == 1000:
                rt.store.enqueue(conn, batch)
                count += len(batch)
                batch = []
        if batch:
            rt.store.enqueue(conn, batch)
            count += len(batch)
    return count


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
