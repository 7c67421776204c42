"""Consumer loop: idempotent handling through an inbox, offsets after commit, DLQ for poison."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from . import keyring, logs, revision, tracing
from .bus import Message, Publisher, Subscriber
from .config import dlq_topic
from .envelope import Envelope, MalformedEvent, utcnow
from .metrics import DEAD_LETTERED
from .projections import Projection, apply_events
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
        self.tables = tables
        self.inbox = tables.inbox
        self._changed: set[str] = set()  # the projections this batch's transaction changed
        self.registry = registry
        self.projections = list(projections)
        self.dlq = dlq
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.dead_lettered = 0
        self.name = name  # the consuming service, named on what it dead-letters

    def handle_batch(self, messages: Sequence[Message]) -> dict[tuple[str, int], int]:
        """Apply messages in one transaction; return the offsets to commit.

        The batch is applied whole in one savepoint, with one inbox query and one inbox insert
        for all of it; if any message fails, the batch is applied again message by message (a
        savepoint each) so only the poison one is retried and dead-lettered.
        """
        offsets = {(m.topic, m.partition): m.offset + 1 for m in messages}
        ring = keyring.default()  # once a batch: finding it reads the environment
        stored = [(m, self._parse(m)) for m in messages]
        ring.prepare_to_read(self.registry, (e for _, e in stored if e is not None))
        readable = [(m, self._readable(m, e, ring)) for m, e in stored if e is not None]
        events = [(m, e) for m, e in readable if e is not None]
        with self.engine.begin() as conn:
            self._changed = set()
            if self._apply_all(conn, events) is not None:
                for message, event in events:
                    self._handle(conn, message, event)
            if self._changed:  # last, so their row locks are held only while committing
                revision.bump(conn, self.tables, self._changed)
        self.dlq.flush()
        return offsets

    def _parse(self, message: Message) -> Envelope | None:
        """The message's event as stored; None for a checkpoint or a malformed message (sent to
        the DLQ)."""
        if is_checkpoint_message(message.headers):
            return None  # a store's signed checkpoint on its topic, not an event
        try:
            return Envelope.from_json(message.value or b"")
        except (MalformedEvent, ValueError) as exc:
            self._dead_letter(message, exc, attempts=1)
            return None

    def _readable(
        self, message: Message, event: Envelope, ring: keyring.Keyring
    ) -> Envelope | None:
        """The event with its personal fields opened, upcast; None if it cannot be (DLQ)."""
        try:
            return ring.readable(self.registry, event)
        except (MalformedEvent, ValueError) as exc:
            self._dead_letter(message, exc, attempts=1)
            return None

    def _apply_all(
        self, conn: sa.Connection, events: Sequence[tuple[Message, Envelope]]
    ) -> Exception | None:
        """Every new event of the batch in one savepoint; the failure (nothing applied) if one
        fails."""
        if not events:
            return None
        try:
            with conn.begin_nested():
                fresh = self._unseen(conn, events)
                for run in self._runs(fresh):
                    message, first = run[0]
                    with (
                        logs.bound(
                            correlation_id=first.correlation_id, institution=first.institution_id
                        ),
                        tracing.consuming(message, first),
                    ):
                        apply_events(conn, self.projections, [event for _, event in run])
                self._remember(conn, fresh)
            return None
        except sa.exc.OperationalError:
            raise  # the database itself is failing: retry the whole batch later
        except Exception as exc:
            return exc

    @staticmethod
    def _runs(
        events: Sequence[tuple[Message, Envelope]],
    ) -> list[list[tuple[Message, Envelope]]]:
        """Consecutive events of one type and one correlation, applied together (a roster
        import's registrations: a few statements, not one per person); one by one while traces
        are recorded, so each event keeps its own consumer span."""
        if tracing.enabled():
            return [[item] for item in events]

        def same(item: tuple[Message, Envelope]) -> tuple[str, str, str | None]:
            _, event = item
            return event.event_type, event.correlation_id, event.institution_id

        return [list(run) for _, run in itertools.groupby(events, key=same)]

    def _unseen(
        self, conn: sa.Connection, events: Sequence[tuple[Message, Envelope]]
    ) -> list[tuple[Message, Envelope]]:
        """The events not in the inbox yet, each once (a batch can hold a redelivery)."""
        ids = list({e.event_id for _, e in events})
        seen: set[str] = set()
        for start in range(0, len(ids), 500):
            seen.update(
                conn.execute(
                    sa.select(self.inbox.c.event_id).where(
                        self.inbox.c.event_id.in_(ids[start : start + 500])
                    )
                ).scalars()
            )
        fresh = []
        for message, event in events:
            if event.event_id not in seen:
                seen.add(event.event_id)
                fresh.append((message, event))
        return fresh

    def _remember(self, conn: sa.Connection, events: Sequence[tuple[Message, Envelope]]) -> None:
        if events:
            # Only events a projection applies change what the API reads from it.
            types = {e.event_type for _, e in events}
            self._changed |= {p.name for p in self.projections if any(map(p.handles, types))}
            now = utcnow()
            conn.execute(
                self.inbox.insert(),
                [
                    {"event_id": e.event_id, "source": m.topic, "processed_at": now}
                    for m, e in events
                ],
            )

    def _handle(self, conn: sa.Connection, message: Message, event: Envelope) -> None:
        for attempt in range(1, self.max_attempts + 1):
            failure = self._apply_all(conn, [(message, event)])
            if failure is None:
                return
            if attempt == self.max_attempts:
                self._dead_letter(message, failure, attempts=attempt)
                return
            log.warning("event %s failed (attempt %d): %r", event.event_id, attempt, failure)
            time.sleep(self.backoff_s * 2 ** (attempt - 1))

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
