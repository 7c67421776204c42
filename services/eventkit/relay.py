"""Outbox relay: publishes stored events to Kafka in order, one relay per service at a time."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
import zlib
from pathlib import Path

import sqlalchemy as sa

from .bus import Publisher
from .db import is_postgres, reading
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
        with reading(self.engine) as conn:  # the idle case needs no write lock
            if not conn.execute(
                sa.select(outbox.c.id).where(outbox.c.state == OUTBOX_PENDING).limit(1)
            ).first():
                return 0
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
        while not stop.is_set():
            if time.monotonic() - checked > 5.0:
                if not self.lock.still_held():
                    log.warning("relay: lost the outbox lock; acquiring it again")
                    return
                checked = time.monotonic()
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
