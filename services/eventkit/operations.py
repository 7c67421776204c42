"""Operator actions on a service's store: verify, republish, parked outbox rows, rebuild."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from . import config, revision, rls
from .bus import KafkaPublisher, Publisher, read_topics_from_start
from .consumer import EventConsumer
from .envelope import Envelope, format_time, utcnow
from .hashchain import ChainBreak, VerifyReport, verify_events
from .projections import apply_events
from .seal import (
    CHECKPOINT_HEADER,
    Checkpoint,
    CheckpointFile,
    Verification,
    VerificationFile,
    check_checkpoints,
    verify_seals,
)
from .service import Runtime
from .tables import OUTBOX_FAILED, OUTBOX_IN_PROGRESS, OUTBOX_PENDING, OUTBOX_SKIPPED

log = logging.getLogger(__name__)
Progress = Callable[[int], None]  # told how many events are done so far (a progress bar)


def _untold(_done: int) -> None:
    pass


def verify(rt: Runtime, checkpoints: Sequence[Checkpoint] | None = None) -> VerifyReport:
    """Each stream's hash chain, the store-wide seal chain, then the checkpoints kept outside
    the store (by default the service's checkpoint file); the first break is named."""
    key = config.audit_key()
    if checkpoints is None:
        checkpoints = checkpoint_file(rt).read()
    with rt.reading() as conn:
        chains = verify_events(rt.store.read_streams_in_order(conn))
        if not chains.ok:
            return chains
        _, head, broken = verify_seals(key, rt.store.read_sealed(conn))
        seal_at = rt.store.seals_at(conn, [c.seq for c in checkpoints])
    found = None
    if broken is not None:
        found = ChainBreak(
            broken.stream_id, broken.stream_version, broken.event_id, broken.reason, broken.seq
        )
    else:
        problem = check_checkpoints(key, rt.service.name, head, seal_at, checkpoints)
        found = ChainBreak("", 0, "", problem, head[0] + 1) if problem else None
    return dataclasses.replace(
        chains, first_break=found, sealed_through=head[0], checkpoints_checked=len(checkpoints)
    )


def checkpoint_file(rt: Runtime) -> CheckpointFile:
    return CheckpointFile(config.checkpoint_dir(), rt.service.name)


def checkpoint_every(
    rt: Runtime, stop: threading.Event, publisher: Publisher | None = None
) -> None:
    """The worker's loop: a checkpoint, then a full verification kept for the audit page, at
    start and every TANDEM_CHECKPOINT_INTERVAL_S (the page never reads a whole store). From the
    second on, each checkpoint also goes out on the service's topic with `publisher`."""
    interval = config.env_int("TANDEM_CHECKPOINT_INTERVAL_S", 300)
    first = True
    while not stop.is_set():
        try:
            # Not on the topic at start: the relay first asks whether a fresh broker's topic is
            # empty (lost), and a checkpoint there would hide that.
            checkpoint(rt, None if first else publisher)
        except Exception:  # a full disk, a database blip or the broker away: try again later
            log.exception("%s: writing a checkpoint failed", rt.service.name)
        first = False
        try:
            verify_and_keep(rt)
        except Exception:
            log.exception("%s: verifying the store failed", rt.service.name)
        stop.wait(interval)


def verification_file(rt: Runtime) -> VerificationFile:
    return VerificationFile(config.checkpoint_dir(), rt.service.name)


def verify_and_keep(rt: Runtime) -> Verification:
    """Verify the whole store and keep the result, signed, beside the checkpoints."""
    with rls.scoped(rls.UNRESTRICTED):
        report = verify(rt)
        found = None
        if report.first_break is not None:
            br = report.first_break
            found = {
                "position": _position(rt, br.stream_id, br.stream_version),
                "stream_id": br.stream_id,
                "stream_version": br.stream_version,
                "event_id": br.event_id,
                "reason": br.reason,
            }
    kept = Verification(
        rt.service.name, report.ok, report.events_checked, report.streams_checked,
        format_time(utcnow()), found,
    ).signed(config.audit_key())  # fmt: skip
    verification_file(rt).write(kept)
    if not report.ok:
        log.error("%s: the store does not verify: %s", rt.service.name, report.first_break)
    return kept


def _position(rt: Runtime, stream_id: str, stream_version: int) -> int | None:
    events = rt.service.tables.events
    with rt.reading() as conn:
        return conn.execute(
            sa.select(events.c.position).where(
                events.c.stream_id == stream_id, events.c.stream_version == stream_version
            )
        ).scalar()


def last_verification(rt: Runtime) -> Verification | None:
    """The last verification the worker kept, or None before its first; one not signed with
    the audit key is reported as a failed verification."""
    kept = verification_file(rt).read()
    if kept is None or (kept.service == rt.service.name and kept.authentic(config.audit_key())):
        return kept
    return Verification(
        rt.service.name, False, 0, 0, kept.checked_at, {
            "position": None, "stream_id": "", "stream_version": 0, "event_id": "",
            "reason": "the kept verification is not signed with the audit key",
        },
    )  # fmt: skip


def checkpoint(rt: Runtime, publisher: Publisher | None = None) -> Checkpoint:
    """Sign the store's head and write it outside the store (and, with `publisher`, on the
    service's own topic too, marked so consumers skip it)."""
    with rt.reading() as conn:
        seq, seal = rt.store.seal_head(conn)
    signed = Checkpoint(rt.service.name, seq, seal, format_time(utcnow())).signed(
        config.audit_key()
    )
    checkpoint_file(rt).append(signed)
    if publisher is not None:
        publisher.publish(
            rt.service.topic, b"checkpoint", signed.to_json().encode(), [CHECKPOINT_HEADER]
        )
        publisher.flush()
    return signed


def republish(rt: Runtime, progress: Progress = _untold) -> int:
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
                sa.select(outbox.c.event_id).where(
                    outbox.c.state.in_([OUTBOX_FAILED, OUTBOX_SKIPPED])
                )
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
                progress(count)
        if batch:
            rt.store.enqueue(conn, batch)
            count += len(batch)
    progress(count)
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


def skip_parked(rt: Runtime, row_ids: Sequence[int]) -> int:
    """Give up on the named parked rows: their events stay in the store but are never published,
    and the later events of their streams flow again."""
    outbox = rt.service.tables.outbox
    with rt.engine.begin() as conn:
        return conn.execute(
            outbox.update()
            .where(outbox.c.state == OUTBOX_FAILED, outbox.c.id.in_(list(row_ids)))
            .values(state=OUTBOX_SKIPPED, updated_at=utcnow())
        ).rowcount


def retry_parked(rt: Runtime, row_ids: Sequence[int] = ()) -> int:
    """Queue parked rows again (all of them, or those named); the relay tries them next."""
    outbox = rt.service.tables.outbox
    query = outbox.update().where(outbox.c.state == OUTBOX_FAILED)
    if row_ids:
        query = query.where(outbox.c.id.in_(list(row_ids)))
    with rt.engine.begin() as conn:
        return conn.execute(query.values(state=OUTBOX_PENDING, updated_at=utcnow())).rowcount


def rebuild_own(rt: Runtime, progress: Progress = _untold) -> int:
    """Empty the read models of the service's own events and replay its store into them."""
    count = 0
    with rt.engine.begin() as conn:
        for projection in rt.service.projections:
            projection.clear(conn)
        batch: list[Envelope] = []
        for _, event in rt.store.read_all(conn):
            batch.append(event)
            if len(batch) == 500:
                apply_events(conn, rt.service.projections, batch)
                count += len(batch)
                batch = []
                progress(count)
        apply_events(conn, rt.service.projections, batch)
        count += len(batch)
        # Rebuilt read models may differ from the ones answered before (a fixed projection).
        revision.bump(conn, rt.service.tables, [p.name for p in rt.service.projections])
    progress(count)
    return count


def rebuild_from_topics(rt: Runtime, bootstrap: str, progress: Progress = _untold) -> int:
    """Empty the read models fed by other services and replay their topics (stop the worker
    first)."""
    service = rt.service
    topics = service.subscriptions
    with rt.engine.begin() as conn:
        for projection in service.consumers:
            projection.clear(conn)
        revision.bump(conn, service.tables, [p.name for p in service.consumers])
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
                progress(count)
        if batch:
            consumer.handle_batch(batch)
            count += len(batch)
        progress(count)
    finally:
        dlq.close()
    return count
