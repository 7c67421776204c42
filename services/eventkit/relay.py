"""Outbox relay: publishes stored events to Kafka in order, one relay per service at a time."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import zlib
from pathlib import Path

import sqlalchemy as sa

from .bus import Publisher
from .db import is_postgres
from .envelope import utcnow
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

    def acquire(self) -> bool:
        if is_postgres(self.engine):
            key = zlib.crc32(f"tandem-relay:{self.name}".encode())
            conn = self.engine.connect()
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
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

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # closing the session frees the advisory lock
            self._conn = None
        if self._file is not None:
            self._file.close()
            self._file = None


class Relay:
    def __init__(
        self,
        engine: sa.Engine,
        tables: KitTables,
        publisher: Publisher,
        name: str,
        batch_size: int = 500,
        idle_sleep_s: float = 0.05,
        max_attempts: int = 20,
    ) -> None:
        self.engine = engine
        self.outbox = tables.outbox
        self.publisher = publisher
        self.lock = RelayLock(engine, name)
        self.batch_size = batch_size
        self.idle_sleep_s = idle_sleep_s
        self.max_attempts = max_attempts

    def recover_stranded(self) -> int:
        """Rows a crashed relay took but never marked published go back to the queue."""
        with self.engine.begin() as conn:
            result = conn.execute(
                self.outbox.update()
                .where(self.outbox.c.state == OUTBOX_IN_PROGRESS)
                .values(state=OUTBOX_PENDING, updated_at=utcnow())
            )
        if result.rowcount:
            log.warning("relay: re-queued %d stranded outbox rows", result.rowcount)
        return result.rowcount

    def publish_batch(self) -> int:
        """Publish the oldest pending rows; return how many were published."""
        outbox = self.outbox
        with self.engine.begin() as conn:
            rows = conn.execute(
                sa.select(outbox.c.id, outbox.c.topic, outbox.c.message_key, outbox.c.message)
                .where(outbox.c.state == OUTBOX_PENDING)
                .order_by(outbox.c.id)
                .limit(self.batch_size)
            ).all()
            if not rows:
                return 0
            ids = [r.id for r in rows]
            conn.execute(
                outbox.update()
                .where(outbox.c.id.in_(ids))
                .values(state=OUTBOX_IN_PROGRESS, updated_at=utcnow())
            )
        try:
            for row in rows:
                self.publisher.publish(row.topic, row.message_key.encode(), row.message.encode())
            self.publisher.flush()
        except Exception as exc:
            self._failed(ids, exc)
            raise
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id.in_(ids))
                .values(state=OUTBOX_PUBLISHED, updated_at=utcnow())
            )
        return len(rows)

    def _failed(self, ids: list[int], exc: Exception) -> None:
        # Retriable errors (broker away) requeue the batch; a message the broker can never take
        # is parked as failed after bounded attempts so it cannot block everything behind it.
        permanent = not getattr(exc, "retriable", True)
        outbox = self.outbox
        with self.engine.begin() as conn:
            conn.execute(
                outbox.update()
                .where(outbox.c.id.in_(ids))
                .values(
                    state=sa.case(
                        (
                            sa.and_(
                                sa.literal(permanent), outbox.c.attempts + 1 >= self.max_attempts
                            ),
                            OUTBOX_FAILED,
                        ),
                        else_=OUTBOX_PENDING,
                    ),
                    attempts=outbox.c.attempts + 1,
                    last_error=repr(exc)[:2000],
                    updated_at=utcnow(),
                )
            )

    def drain(self) -> int:
        """Publish until nothing is pending (the caller must hold the lock)."""
        total = 0
        while count := self.publish_batch():
            total += count
        return total

    def run(self, stop: threading.Event) -> None:
        """Wait for the lock, re-queue stranded rows, then publish until stopped."""
        while not stop.is_set() and not self.lock.acquire():
            stop.wait(2.0)
        if stop.is_set():
            return
        log.info("relay: holding the outbox lock")
        backoff = 0.5
        try:
            self.recover_stranded()
            while not stop.is_set():
                try:
                    published = self.publish_batch()
                    backoff = 0.5
                except Exception:
                    log.exception("relay: publish failed; retrying in %.1fs", backoff)
                    stop.wait(backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                if not published:
                    stop.wait(self.idle_sleep_s)
        finally:
            self.lock.release()

    def pending_count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count())
                .select_from(self.outbox)
                .where(self.outbox.c.state.in_([OUTBOX_PENDING, OUTBOX_IN_PROGRESS]))
            ).scalar_one()
