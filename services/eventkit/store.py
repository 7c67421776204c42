"""Append-only event store with optimistic concurrency, outbox rows and inline projections."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterator, Sequence

import sqlalchemy as sa

from . import config, keyring, rls, tracing
from .envelope import GENESIS_HASH, Envelope, Metadata, NewEvent, new_id, utcnow
from .projections import Projection, apply_events
from .registry import Registry
from .seal import GENESIS_SEAL, sealed
from .tables import OUTBOX_PENDING, KitTables

ANY_VERSION = None
# Appends take this PostgreSQL advisory lock so the store-wide sequence has no gaps or forks
# (SQLite's BEGIN IMMEDIATE already serializes writers).
SEAL_LOCK = 0x7A5E_A1ED


class ConcurrencyError(Exception):
    """The stream moved on since the caller read it; nothing was written."""

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        super().__init__(f"stream {stream_id}: expected version {expected}, found {actual}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


def row_to_envelope(row: sa.Row) -> Envelope:
    return Envelope.from_dict(dict(row._mapping))


@dataclasses.dataclass(frozen=True)
class Snapshot:
    version: int
    state: dict


class EventStore:
    """One service's event store. Appends run on the caller's connection and transaction."""

    def __init__(
        self,
        tables: KitTables,
        registry: Registry,
        topic: str,
        projections: Sequence[Projection] = (),
        keys: keyring.Keyring | None = None,
    ) -> None:
        self.tables = tables
        self.registry = registry
        self.topic = topic
        self.projections = list(projections)
        self._keys = keys

    @property
    def keys(self) -> keyring.Keyring:
        """The keyring personal fields are sealed under (the configured one unless given)."""
        return self._keys or keyring.default()

    def readable(self, event: Envelope) -> Envelope:
        """A stored event as readers see it: personal fields opened, then upcast."""
        return self.keys.readable(self.registry, event)

    def stream_head(self, conn: sa.Connection, stream_id: str) -> tuple[int, str]:
        return self.stream_heads(conn, [stream_id]).get(stream_id, (0, GENESIS_HASH))

    def append(
        self,
        conn: sa.Connection,
        stream_id: str,
        new_events: Sequence[NewEvent],
        expected_version: int | None,
        meta: Metadata,
    ) -> list[Envelope]:
        """Store events at the end of a stream; raise ConcurrencyError if it is not at expected_version.

        The events, their outbox rows and the inline projections share the caller's transaction.
        """
        return self.append_batch(conn, [(stream_id, new_events, expected_version)], meta)

    def append_batch(
        self,
        conn: sa.Connection,
        appends: Sequence[tuple[str, Sequence[NewEvent], int | None]],
        meta: Metadata,
    ) -> list[Envelope]:
        """Several streams' appends at once (one stream at most once): all are stored, or none.

        Runs unrestricted by row-level security: heads must count every event of a stream, and
        the projections write whatever rows the events say (see rls.unrestricted).
        """
        with rls.unrestricted(conn):
            return self._append_batch(conn, appends, meta)

    def _append_batch(
        self,
        conn: sa.Connection,
        appends: Sequence[tuple[str, Sequence[NewEvent], int | None]],
        meta: Metadata,
    ) -> list[Envelope]:
        stream_ids = [stream_id for stream_id, _, _ in appends]
        if len(set(stream_ids)) != len(stream_ids):
            raise ValueError("a stream may appear only once in a batch")
        heads = self.stream_heads(conn, stream_ids)
        validated = [
            [(new.event_type, self.registry.get(new.event_type).validate(new.payload))
             for new in new_events]
            for _, new_events, _ in appends
        ]  # fmt: skip
        keys = self.keys
        keys.prepare_for(self.registry, (e for events in validated for e in events))
        stored: list[Envelope] = []
        plain: list[dict] = []  # each stored event's payload before sealing
        now = utcnow()
        for (stream_id, _, expected_version), events in zip(appends, validated, strict=True):
            version, prev_hash = heads.get(stream_id, (0, GENESIS_HASH))
            if expected_version is not None and version != expected_version:
                raise ConcurrencyError(stream_id, expected_version, version)
            for type_name, payload in events:
                event_type = self.registry.get(type_name)
                version += 1
                envelope = Envelope(
                    event_id=new_id(),
                    event_type=type_name,
                    schema_version=event_type.version,
                    stream_id=stream_id,
                    stream_version=version,
                    institution_id=meta.institution_id,
                    actor=dict(meta.actor),
                    occurred_at=now,
                    correlation_id=meta.correlation_id,
                    causation_id=meta.causation_id,
                    # Personal fields are sealed before hashing: the chain covers the ciphertext.
                    payload=keys.sealed(self.registry, type_name, payload),
                ).sealed(prev_hash)
                prev_hash = envelope.hash
                stored.append(envelope)
                plain.append(payload)
        if not stored:
            return stored
        rows = self._sealed_rows(conn, stored)
        try:
            with conn.begin_nested():
                conn.execute(self.tables.events.insert(), rows)
        except sa.exc.IntegrityError:
            # Another writer got there first; report the first stream that moved.
            now_heads = self.stream_heads(conn, stream_ids)
            for stream_id, _, expected in appends:
                actual = now_heads.get(stream_id, (0, ""))[0]
                if actual != heads.get(stream_id, (0, ""))[0]:
                    raise ConcurrencyError(stream_id, expected, actual) from None
            raise
        self.enqueue(conn, stored)  # the topic carries the ciphertext too
        shown = [keys.as_written(self.registry, e, p) for e, p in zip(stored, plain, strict=True)]
        apply_events(conn, self.projections, shown)
        return shown

    def _sealed_rows(self, conn: sa.Connection, stored: Sequence[Envelope]) -> list[dict]:
        """The events' rows, numbered on from the store's head and sealed under the audit key."""
        if conn.dialect.name == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(SEAL_LOCK)))
        head = self.seal_head(conn)
        seals = sealed(config.audit_key(), head, (e.hash for e in stored))
        return [
            {**e.to_dict(), "seq": seq, "seal": seal}
            for e, (seq, seal) in zip(stored, seals, strict=True)
        ]

    def seal_head(self, conn: sa.Connection) -> tuple[int, str]:
        """(seq, seal) of the store's last event; (0, genesis) for an empty store."""
        events = self.tables.events
        last = conn.execute(
            sa.select(events.c.seq, events.c.seal)
            .where(events.c.seq.is_not(None))
            .order_by(events.c.seq.desc())
            .limit(1)
        ).first()
        return (last.seq, last.seal) if last else (0, GENESIS_SEAL)

    def seals_at(self, conn: sa.Connection, seqs: Sequence[int]) -> dict[int, str]:
        events = self.tables.events
        rows = conn.execute(sa.select(events.c.seq, events.c.seal).where(events.c.seq.in_(seqs)))
        return {r.seq: r.seal for r in rows}

    def read_sealed(self, conn: sa.Connection) -> Iterator[sa.Row]:
        """Every event row in sequence order (for verification), unsealed legacy rows first."""
        events = self.tables.events
        yield from conn.execute(
            sa.select(events).order_by(events.c.seq.is_not(None), events.c.seq, events.c.position)
        )

    def stream_heads(
        self, conn: sa.Connection, stream_ids: Sequence[str]
    ) -> dict[str, tuple[int, str]]:
        """(version, hash) of each stream's last event; streams with none are left out."""
        with rls.unrestricted(conn):
            return self._stream_heads(conn, stream_ids)

    def _stream_heads(
        self, conn: sa.Connection, stream_ids: Sequence[str]
    ) -> dict[str, tuple[int, str]]:
        events = self.tables.events
        if len(stream_ids) == 1:  # a command's usual case: the stream index's last entry
            last = conn.execute(
                sa.select(events.c.stream_version, events.c.hash)
                .where(events.c.stream_id == stream_ids[0])
                .order_by(events.c.stream_version.desc())
                .limit(1)
            ).first()
            return {stream_ids[0]: (last.stream_version, last.hash)} if last else {}
        heads: dict[str, tuple[int, str]] = {}
        for start in range(0, len(stream_ids), 500):
            chunk = list(stream_ids[start : start + 500])
            last = (
                sa.select(events.c.stream_id, sa.func.max(events.c.stream_version).label("v"))
                .where(events.c.stream_id.in_(chunk))
                .group_by(events.c.stream_id)
                .subquery()
            )
            rows = conn.execute(
                sa.select(events.c.stream_id, events.c.stream_version, events.c.hash).join(
                    last,
                    (events.c.stream_id == last.c.stream_id)
                    & (events.c.stream_version == last.c.v),
                )
            )
            heads.update({r.stream_id: (r.stream_version, r.hash) for r in rows})
        return heads

    def enqueue(self, conn: sa.Connection, events: Sequence[Envelope]) -> None:
        """Outbox rows for the relay to publish, in the given order, each with the trace it
        continues (the relay's publish joins it)."""
        now, traceparent = utcnow(), tracing.current_traceparent()
        conn.execute(
            self.tables.outbox.insert(),
            [
                {
                    "event_id": e.event_id,
                    "topic": self.topic,
                    "message_key": e.stream_id,
                    "message": self.registry.on_wire(e).to_json().decode(),
                    "state": OUTBOX_PENDING,
                    "attempts": 0,
                    "trace_context": traceparent,
                    "created_at": now,
                    "updated_at": now,
                }
                for e in events
            ],
        )

    def load(
        self,
        conn: sa.Connection,
        stream_id: str,
        event_types: Collection[str] | None = None,
        after_version: int = 0,
    ) -> list[Envelope]:
        """A whole stream (or its events of these types, or those after a version), whatever the
        caller's scope: commands check the aggregate itself."""
        events = self.tables.events
        query = sa.select(events).where(events.c.stream_id == stream_id)
        if after_version:
            query = query.where(events.c.stream_version > after_version)
        if event_types is not None:
            query = query.where(events.c.event_type.in_(sorted(event_types)))
        with rls.unrestricted(conn):
            rows = conn.execute(query.order_by(events.c.stream_version)).all()
        return [self.readable(row_to_envelope(r)) for r in rows]

    # --- snapshots: an aggregate's state as of a version (see Aggregate.snapshot_after) ----------

    def snapshot(self, conn: sa.Connection, stream_id: str, kind: str) -> Snapshot | None:
        """The stream's snapshot of this kind, if the event it was taken at is still the one
        stored there (a snapshot is a cache of the events, never trusted over them)."""
        snapshots, events = self.tables.snapshots, self.tables.events
        with rls.unrestricted(conn):
            row = conn.execute(
                sa.select(snapshots.c.stream_version, snapshots.c.state)
                .join(
                    events,
                    sa.and_(
                        events.c.stream_id == snapshots.c.stream_id,
                        events.c.stream_version == snapshots.c.stream_version,
                        events.c.hash == snapshots.c.event_hash,
                    ),
                )
                .where(snapshots.c.stream_id == stream_id, snapshots.c.kind == kind)
            ).first()
        return None if row is None else Snapshot(row.stream_version, row.state)

    def take_snapshot(self, conn: sa.Connection, at: Envelope, kind: str, state: dict) -> None:
        """Store the state as of event `at`, just appended (in the caller's transaction),
        replacing the stream's earlier snapshot. Refused for a store whose events have personal
        fields: those are sealed so erasure can shred them; a snapshot would keep them in clear."""
        if self.registry.has_personal_fields():
            raise ValueError(f"{at.stream_id}: no snapshots in a store of personal fields")
        snapshots = self.tables.snapshots
        with rls.unrestricted(conn):
            conn.execute(snapshots.delete().where(snapshots.c.stream_id == at.stream_id))
            conn.execute(
                snapshots.insert().values(
                    stream_id=at.stream_id, stream_version=at.stream_version, event_hash=at.hash,
                    kind=kind, state=state, taken_at=utcnow(),
                )
            )  # fmt: skip

    def read_all(
        self,
        conn: sa.Connection,
        after_position: int = 0,
        batch_size: int = 1000,
        upcast: bool = True,
    ) -> Iterator[tuple[int, Envelope]]:
        """Every event in store order, as (position, event), fetched in batches: as readers see
        them, or with `upcast=False` exactly as stored (personal fields sealed)."""
        events = self.tables.events
        position = after_position
        while True:
            rows = conn.execute(
                sa.select(events)
                .where(events.c.position > position)
                .order_by(events.c.position)
                .limit(batch_size)
            ).all()
            if not rows:
                return
            for row in rows:
                position = row.position
                envelope = row_to_envelope(row)
                yield position, self.readable(envelope) if upcast else envelope

    def read_streams_in_order(self, conn: sa.Connection) -> Iterator[Envelope]:
        """Every event as stored (not upcast), stream by stream in version order: for verification."""
        events = self.tables.events
        rows = conn.execute(sa.select(events).order_by(events.c.stream_id, events.c.stream_version))
        for row in rows:
            yield row_to_envelope(row)
