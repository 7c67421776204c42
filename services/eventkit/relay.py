"""Outbox relay: publishes stored events to Kafka in order, one relay per service at a time.

A row the broker can never take (too large, refused for good) is parked alone with its error;
later rows of its stream wait behind it, every other stream keeps flowing. After the broker loses
its data, the relay queues the whole store again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import logging
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa

from . import config, tracing
from .bus import Outgoing, Publisher, is_message_error
from .db import is_postgres, reading
from .envelope import utcnow
from .metrics import RELAYED
from .tables import (
    OUTBOX_FAILED,
    OUTBOX_IN_PROGRESS,
    OUTBOX_PENDING,
    OUTBOX_PUBLISHED,
    KitTables,
)

log = logging.getLogger(__name__)


class RelayLock:
    """Exclusive per service: a PostgreSQL advisory lock, or a file lock beside a SQLite database.

    Both are released by the operating system or the server when the holder dies.
    """

    def __init__(self, engine: sa.Engine, name: str) -> None:
        self.engine = engine
        self.name = name
        self._conn: sa.Connection | None = None
        self._file = None
        self._key = zlib.crc32(f"tandem-relay:{name}".encode())

    def acquire(self) -> bool:
        if is_postgres(self.engine):
            conn = self.engine.connect()
            got = conn.execute(
                sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": self._key}
            ).scalar()
            conn.commit()
            if got:
                self._conn = conn
            else:
                conn.close()
            return bool(got)
        path = Path(self.engine.url.database or "var/tandem.db").with_suffix(".relay.lock")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def still_held(self) -> bool:
        """False if the session holding a PostgreSQL lock has gone (the lock went with it)."""
        if self._conn is None:
            return self._file is not None
        try:
            self._conn.execute(sa.text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            return False

    def release(self) -> None:
        if self._conn is not None:
            # Pooled connections outlive close(): unlock explicitly, and drop the session if that fails.
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
                self._conn.commit()
                self._conn.close()
            except Exception:
                with contextlib.suppress(Exception):
                    self._conn.invalidate()
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None


def event_max_bytes() -> int:
    """The size budget of one message (key and value), below the broker's limit of about 1 MB."""
    return config.env_int("TANDEM_EVENT_MAX_BYTES", 900_000)


class EventTooLarge(Exception):
    """An outbox message over the event size budget: the broker would refuse it."""

    retriable = False


class PublishFailed(Exception):
    """Some rows could not be sent for a reason that is not theirs (broker away); they wait."""


@dataclasses.dataclass(frozen=True)
class Healing:
    """What the relay needs to recover from a broker that lost its data (the worker gives it)."""

    losses: Callable[[], int]  # how many losses the worker's broker watch has noticed
    topic_empty: Callable[[], bool]  # the service's own topic holds nothing now
    republish: Callable[[], int]  # create the topics and queue every stored event again


@dataclasses.dataclass(frozen=True)
class RelayStatus:
    backlog: int  # rows waiting to be published (parked ones not included)
    oldest_pending_s: float | None  # age of the oldest waiting row
    parked: int  # rows the broker refused for good; an operator re-drives them
    last_published_s: float | None  # seconds since a row was last published
    stuck: bool

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def relay_status(engine: sa.Engine, outbox: sa.Table, stuck_after_s: float) -> RelayStatus:
    """The outbox as every worker of the service sees it (read from the database)."""
    waiting = outbox.c.state.in_([OUTBOX_PENDING, OUTBOX_IN_PROGRESS])
    with reading(engine) as conn:
        backlog, oldest = conn.execute(
            sa.select(sa.func.count(), sa.func.min(outbox.c.created_at)).where(waiting)
        ).one()
        parked = conn.execute(
            sa.select(sa.func.count()).where(outbox.c.state == OUTBOX_FAILED)
        ).scalar_one()
        last = conn.execute(
            sa.select(outbox.c.updated_at)
            .where(outbox.c.state == OUTBOX_PUBLISHED)
            .order_by(outbox.c.id.desc())
            .limit(1)
        ).scalar()
    oldest_s, last_s = _age(oldest), _age(last)
    stalled = (
        backlog > 0
        and oldest_s is not None
        and oldest_s > stuck_after_s
        and (last_s is None or last_s > stuck_after_s)
    )
    return RelayStatus(backlog, oldest_s, parked, last_s, stuck=stalled or parked > 0)


def _age(at: dt.datetime | None) -> float | None:
    if at is None:
        return None
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return round(max((utcnow() - at).total_seconds(), 0.0), 1)


class Relay:
    def __init__(
        self,
        engine: sa.Engine,
        tables: KitTables,
        publisher: Publisher,
        name: str,
        batch_size: int = 500,
        idle_sleep_s: float = 0.05,
        max_message_bytes: int | None = None,
        healing: Healing | None = None,
    ) -> None:
        self.engine = engine
        self.outbox = tables.outbox
        self.publisher = publisher
        self.lock = RelayLock(engine, name)
        self.batch_size = batch_size
        self.idle_sleep_s = idle_sleep_s
        self.max_message_bytes = max_message_bytes or event_max_bytes()
        self.healing = healing
        self._healed = 0

    def recover_stranded(self) -> int:
        """Rows an earlier relay claimed (in progress) but never marked published go back to
        the queue."""
        with self.engine.begin() as conn:
            result = conn.execute(
                self.outbox.update()
                .where(self.outbox.c.state == OUTBOX_IN_PROGRESS)
                .values(state=OUTBOX_PENDING, updated_at=utcnow())
            )
        if result.rowcount:
            log.warning("relay: re-queued %d stranded outbox rows", result.rowcount)
        return result.rowcount

    def _due(self, columns: Sequence[sa.ColumnElement]) -> sa.Select:
        """Pending rows, oldest first, except those queued behind a parked row of their stream."""
        outbox, parked = self.outbox, self.outbox.alias("parked")
        behind_parked = (
            sa.exists()
            .where(parked.c.state == OUTBOX_FAILED)
            .where(parked.c.topic == outbox.c.topic)
            .where(parked.c.message_key == outbox.c.message_key)
            .where(parked.c.id < outbox.c.id)
        )
        return (
            sa.select(*columns)
            .where(outbox.c.state == OUTBOX_PENDING, ~behind_parked)
            .order_by(outbox.c.id)
        )

    def publish_batch(self) -> int:
        """Publish the oldest due rows; return how many were published.

        Rows the broker refuses for good are parked alone; rows that failed for another reason
        (broker away, producer fenced) go back to the queue and PublishFailed is raised.
        """
        outbox = self.outbox
        # Read only: the lock makes this relay the service's only publisher, so rows need no
        # claim; a crash before they are marked leaves them pending, to be sent again (and
        # skipped by every consumer's inbox).
        with reading(self.engine) as conn:
            rows = conn.execute(
                self._due(
                    [
                        outbox.c.id,
                        outbox.c.topic,
                        outbox.c.message_key,
                        outbox.c.message,
                        outbox.c.trace_context,
                    ]
                ).limit(self.batch_size)
            ).all()
        if not rows:
            return 0
        sendable, parked, held = self._screen(rows)
        traced = [tracing.publishing(r.trace_context, r.topic) for r in sendable]
        outcomes = self.publisher.deliver(
            [
                Outgoing(r.topic, r.message_key.encode(), r.message.encode(), headers)
                for r, (_, headers) in zip(sendable, traced, strict=True)
            ]
        )
        for (started, _), outcome in zip(traced, outcomes, strict=True):
            tracing.finish(started, outcome)
        published: list[int] = []
        failed: dict[int, Exception] = {}
        for row, outcome in zip(sendable, outcomes, strict=True):
            if outcome is None:
                published.append(row.id)
            elif is_message_error(outcome):
                parked[row.id] = outcome
            else:
                failed[row.id] = outcome
        self._settle(published, parked, failed, held)
        if failed:
            raise PublishFailed(f"{len(failed)} rows not sent: {next(iter(failed.values()))!r}")
        return len(published)

    def _screen(
        self, rows: Sequence[sa.Row]
    ) -> tuple[list[sa.Row], dict[int, Exception], list[int]]:
        """Split a batch: rows to send, rows over the size budget (parked without trying), and
        rows of a stream with a parked row earlier in this batch (held back, to keep order)."""
        sendable: list[sa.Row] = []
        parked: dict[int, Exception] = {}
        held: list[int] = []
        blocked: set[tuple[str, str]] = set()
        for row in rows:
            stream = (row.topic, row.message_key)
            size = len(row.message_key.encode()) + len(row.message.encode())
            if stream in blocked:
                held.append(row.id)
            elif size > self.max_message_bytes:
                parked[row.id] = EventTooLarge(
                    f"{size} bytes on the wire; the budget is {self.max_message_bytes} bytes"
                    " (TANDEM_EVENT_MAX_BYTES, below the broker's message size limit)"
                )
                blocked.add(stream)
            else:
                sendable.append(row)
        return sendable, parked, held

    def _settle(
        self,
        published: list[int],
        parked: dict[int, Exception],
        failed: dict[int, Exception],
        held: list[int],
    ) -> None:
        outbox, now = self.outbox, utcnow()
        with self.engine.begin() as conn:
            if published:
                conn.execute(
                    outbox.update()
                    .where(outbox.c.id.in_(published))
                    .values(state=OUTBOX_PUBLISHED, updated_at=now)
                )
            for state, errors in ((OUTBOX_FAILED, parked), (OUTBOX_PENDING, failed)):
                for row_id, exc in errors.items():
                    conn.execute(
                        outbox.update()
                        .where(outbox.c.id == row_id)
                        .values(
                            state=state,
                            attempts=outbox.c.attempts + 1,
                            last_error=repr(exc)[:2000],
                            updated_at=now,
                        )
                    )
            if held:
                conn.execute(
                    outbox.update()
                    .where(outbox.c.id.in_(held))
                    .values(state=OUTBOX_PENDING, updated_at=now)
                )
        RELAYED.labels("published").inc(len(published))
        RELAYED.labels("parked").inc(len(parked))
        RELAYED.labels("failed").inc(len(failed))
        for row_id, exc in parked.items():
            log.error("relay: parked outbox row %d, the broker will never take it: %r", row_id, exc)

    def drain(self) -> int:
        """Publish until nothing is due (the caller must hold the lock)."""
        total = 0
        while count := self.publish_batch():
            total += count
        return total

    def run(self, stop: threading.Event) -> None:
        """Hold the lock and publish until stopped; start over if the lock is lost."""
        while not stop.is_set():
            if not self.lock.acquire():
                stop.wait(2.0)
                continue
            log.info("relay: holding the outbox lock")
            try:
                self._publish_while_held(stop)
            except Exception:
                log.exception("relay: stopped publishing; starting over")
                stop.wait(2.0)
            finally:
                self.lock.release()

    def _publish_while_held(self, stop: threading.Event) -> None:
        backoff = 0.5
        checked = time.monotonic()
        self.recover_stranded()
        self._heal_if_topic_lost()
        while not stop.is_set():
            if time.monotonic() - checked > 5.0:
                if not self.lock.still_held():
                    log.warning("relay: lost the outbox lock; acquiring it again")
                    return
                checked = time.monotonic()
            self._heal_after_broker_loss()
            try:
                published = self.publish_batch()
                backoff = 0.5
            except Exception as exc:
                log.warning("relay: publish failed; retrying in %.1fs: %r", backoff, exc)
                stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)  # short: a restarted broker is back in seconds
                continue
            if not published:
                stop.wait(self.idle_sleep_s)

    def _heal_if_topic_lost(self) -> None:
        """On taking the lock: events were published, yet the topic is empty (the broker lost
        them while no relay of this service ran). Queue the store again."""
        if self.healing is None:
            return
        self._healed = self.healing.losses()
        with reading(self.engine) as conn:
            published_before = conn.execute(
                sa.select(self.outbox.c.id).where(self.outbox.c.state == OUTBOX_PUBLISHED).limit(1)
            ).first()
        if published_before and self.healing.topic_empty():
            log.warning("relay: the topic lost the events published before; republishing")
            self._republish()

    def _heal_after_broker_loss(self) -> None:
        if self.healing is None:
            return
        losses = self.healing.losses()
        if losses > self._healed:
            self._healed = losses
            log.warning("relay: the broker lost its data; republishing the store")
            self._republish()

    def _republish(self) -> None:
        assert self.healing is not None
        count = self.healing.republish()
        log.warning("relay: queued %d stored events again", count)
