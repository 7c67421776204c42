"""Consumer loop: idempotent handling through an inbox, offsets after commit, DLQ for poison."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from . import keyring, logs
from .bus import Message, Publisher, Subscriber
from .config import dlq_topic
from .envelope import Envelope, MalformedEvent, utcnow
from .metrics import DEAD_LETTERED
from .projections import Projection
from .registry import Registry
from .seal import is_checkpoint_message
from .tables import KitTables

log = logging.getLogger(__name__)


class EventConsumer:
    """Applies other services' events to this service's projections, each event exactly once."""

    def __init__(
        self,
        engine: sa.Engine,
        tables: KitTables,
        registry: Registry,
        projections: Sequence[Projection],
        dlq: Publisher,
        max_attempts: int = 3,
        backoff_s: float = 0.2,
        name: str = "",
    ) -> None:
        self.engine = engine
        self.inbox = tables.inbox
        self.registry = registry
        self.projections = list(projections)
        self.dlq = dlq
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.dead_lettered = 0
        self.name = name  # the consuming service, named on what it dead-letters

    def handle_batch(self, messages: Sequence[Message]) -> dict[tuple[str, int], int]:
        """Apply messages in one transaction (a savepoint each); return the offsets to commit."""
        offsets: dict[tuple[str, int], int] = {}
        with self.engine.begin() as conn:
            for message in messages:
                self._handle(conn, message)
                offsets[(message.topic, message.partition)] = message.offset + 1
        self.dlq.flush()
        return offsets

    def _handle(self, conn: sa.Connection, message: Message) -> None:
        if is_checkpoint_message(message.headers):
            return  # a store's signed checkpoint on its topic, not an event
        try:
            event = keyring.readable(self.registry, Envelope.from_json(message.value or b""))
        except (MalformedEvent, ValueError) as exc:
            self._dead_letter(message, exc, attempts=1)
            return
        for attempt in range(1, self.max_attempts + 1):
            try:
                with (
                    conn.begin_nested(),
                    logs.bound(
                        correlation_id=event.correlation_id, institution=event.institution_id
                    ),
                ):
                    self._apply_once(conn, event, message.topic)
                return
            except sa.exc.OperationalError:
                raise  # the database itself is failing: retry the whole batch later
            except Exception as exc:
                if attempt == self.max_attempts:
                    self._dead_letter(message, exc, attempts=attempt)
                    return
                log.warning("event %s failed (attempt %d): %r", event.event_id, attempt, exc)
                time.sleep(self.backoff_s * 2 ** (attempt - 1))

    def _apply_once(self, conn: sa.Connection, event: Envelope, source: str) -> None:
        seen = conn.execute(
            sa.select(self.inbox.c.event_id).where(self.inbox.c.event_id == event.event_id)
        ).first()
        if seen:
            return
        for projection in self.projections:
            projection.apply(conn, event)
        conn.execute(
            self.inbox.insert().values(
                event_id=event.event_id, source=source, processed_at=utcnow()
            )
        )

    def _dead_letter(self, message: Message, exc: Exception, attempts: int) -> None:
        log.error(
            "dead-lettering %s[%d]@%d after %d attempt(s): %r",
            message.topic,
            message.partition,
            message.offset,
            attempts,
            exc,
        )
        headers = [
            ("error", repr(exc)[:2000].encode()),
            ("source_topic", message.topic.encode()),
            ("source_partition", str(message.partition).encode()),
            ("source_offset", str(message.offset).encode()),
            ("attempts", str(attempts).encode()),
            ("failed_at", utcnow().isoformat().encode()),
            ("consumer", self.name.encode()),
        ]
        self.dlq.publish(
            dlq_topic(message.topic), message.key or b"", message.value or b"", headers
        )
        self.dead_lettered += 1
        DEAD_LETTERED.labels(message.topic).inc()

    def run(
        self,
        subscriber: Subscriber,
        stop: threading.Event,
        poll_timeout_s: float = 0.5,
        until: Callable[[], bool] = lambda: False,
    ) -> None:
        """Consume until `stop` is set or `until()` is true (the worker rewinds the subscriber
        after the broker lost its offsets)."""
        backoff = poll_backoff = 0.5
        while not stop.is_set() and not until():
            try:
                messages = subscriber.poll(poll_timeout_s)
                poll_backoff = 0.5
            except Exception as exc:  # the broker is away: the client reconnects by itself
                log.warning("poll failed; trying again in %.1fs: %r", poll_backoff, exc)
                stop.wait(poll_backoff)
                poll_backoff = min(poll_backoff * 2, 5.0)
                continue
            if not messages:
                continue
            try:
                offsets = self.handle_batch(messages)
            except Exception:
                log.exception("batch failed; re-reading it in %.1fs", backoff)
                for key, offset in _first_offsets(messages).items():
                    subscriber.seek(*key, offset)
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            try:
                subscriber.commit(offsets)
            except Exception as exc:
                # Applied and recorded in the inbox already: after a rebalance (or a broker that
                # lost the group) these messages come again and are skipped.
                log.warning("offsets not committed; the messages will be skipped later: %r", exc)


def _first_offsets(messages: Sequence[Message]) -> dict[tuple[str, int], int]:
    first: dict[tuple[str, int], int] = {}
    for m in messages:
        first.setdefault((m.topic, m.partition), m.offset)
    return first
