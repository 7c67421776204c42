"""The kit's own tables: event store, outbox and inbox, present in every service's database.

Columns come from functions so the runtime tables and the first migration share one definition.
"""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON()

OUTBOX_PENDING = "pending"
OUTBOX_IN_PROGRESS = "in_progress"
OUTBOX_PUBLISHED = "published"
OUTBOX_FAILED = "failed"  # parked: the broker refused it for good
OUTBOX_SKIPPED = "skipped"  # a parked row an operator gave up on; its stream moves on


def event_columns() -> list[sa.SchemaItem]:
    return [
        sa.Column("position", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("schema_version", sa.Integer, nullable=False),
        sa.Column("stream_id", sa.String(200), nullable=False),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=True, index=True),
        sa.Column("actor", Json, nullable=False),
        sa.Column("occurred_at", sa.String(40), nullable=False),
        sa.Column("correlation_id", sa.String(36), nullable=False),
        sa.Column("causation_id", sa.String(36), nullable=True),
        sa.Column("payload", Json, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    ]


def seal_columns() -> list[sa.SchemaItem]:
    """The store-wide sequence and keyed seal (see `seal.py`), added by a later migration."""
    return [
        sa.Column("seq", sa.BigInteger, nullable=True),
        sa.Column("seal", sa.String(64), nullable=True),
        sa.UniqueConstraint("seq", name="uq_events_seq"),
    ]


def outbox_columns() -> list[sa.SchemaItem]:
    return [
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False, default=OUTBOX_PENDING),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_outbox_state_id", "state", "id"),
    ]


def trace_columns() -> list[sa.SchemaItem]:
    """The trace an outbox row continues (a W3C `traceparent`), added by a later migration."""
    return [sa.Column("trace_context", sa.String(60), nullable=True)]


def add_outbox_trace(op) -> None:
    with op.batch_alter_table("outbox") as batch:
        for column in trace_columns():
            batch.add_column(column)


def drop_outbox_trace(op) -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("trace_context")


def inbox_columns() -> list[sa.SchemaItem]:
    return [
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("source", sa.String(200), nullable=False, index=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    ]


def snapshot_columns() -> list[sa.SchemaItem]:
    """An aggregate's state as of one version of its stream (see `store.Snapshot`)."""
    return [
        sa.Column("stream_id", sa.String(200), primary_key=True),
        sa.Column("stream_version", sa.Integer, nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),  # the event at that version
        sa.Column("kind", sa.String(120), nullable=False),  # the aggregate and its state's shape
        sa.Column("state", Json, nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
    ]


def create_snapshots(op) -> None:
    """For a migration: the snapshots table, seen only by unrestricted scopes (commands load
    aggregates unrestricted; no request reads it)."""
    from . import rls

    op.create_table("snapshots", *snapshot_columns())
    rls.protect(op, {}, worker_only=["snapshots"])


def drop_snapshots(op) -> None:
    from . import rls

    rls.unprotect(op, ["snapshots"])
    op.drop_table("snapshots")


def revision_columns() -> list[sa.SchemaItem]:
    """Per projection, a count of the consumer's transactions and rebuilds that changed it (see
    `revision.py`): with the store's sequence, what a read's ETag is made of."""
    return [
        sa.Column("projection", sa.String(100), primary_key=True),
        sa.Column("applied", sa.BigInteger, nullable=False),
    ]


def create_revision(op) -> None:
    """For a migration: the revision table, readable by every scope (it holds counts only)."""
    op.create_table("revision", *revision_columns())


def drop_revision(op) -> None:
    op.drop_table("revision")


@dataclasses.dataclass(frozen=True)
class KitTables:
    events: sa.Table
    outbox: sa.Table
    inbox: sa.Table
    snapshots: sa.Table
    revision: sa.Table


def define_kit_tables(metadata: sa.MetaData) -> KitTables:
    return KitTables(
        events=sa.Table("events", metadata, *event_columns(), *seal_columns()),
        outbox=sa.Table("outbox", metadata, *outbox_columns(), *trace_columns()),
        inbox=sa.Table("inbox", metadata, *inbox_columns()),
        snapshots=sa.Table("snapshots", metadata, *snapshot_columns()),
        revision=sa.Table("revision", metadata, *revision_columns()),
    )


def create_kit_tables(op) -> None:
    """For a service's first Alembic migration."""
    op.create_table("events", *event_columns())
    op.create_table("outbox", *outbox_columns())
    op.create_table("inbox", *inbox_columns())


def add_store_seal(op) -> None:
    """For stores created before the seal: add the sequence and seal columns, then number and
    seal the events already stored, in store order, under the audit key."""
    from . import config  # the key is read only when a migration needs it
    from .seal import GENESIS_SEAL, sealed

    bind = op.get_bind()
    seq, seal, unique = seal_columns()
    with op.batch_alter_table("events") as batch:
        batch.add_column(seq)
        batch.add_column(seal)
        batch.create_unique_constraint(unique.name, ["seq"])
    events = sa.table(
        "events", sa.column("position"), sa.column("hash"), sa.column("seq"), sa.column("seal")
    )
    last = bind.execute(
        sa.select(events.c.seq, events.c.seal)
        .where(events.c.seq.is_not(None))
        .order_by(events.c.seq.desc())
        .limit(1)
    ).first()
    unsealed = bind.execute(
        sa.select(events.c.position, events.c.hash)
        .where(events.c.seq.is_(None))
        .order_by(events.c.position)
    ).all()
    if not unsealed:
        return
    head = (last.seq, last.seal) if last else (0, GENESIS_SEAL)
    seals = sealed(config.audit_key(), head, (r.hash for r in unsealed))
    for row, (seq, seal) in zip(unsealed, seals, strict=True):
        bind.execute(
            events.update().where(events.c.position == row.position).values(seq=seq, seal=seal)
        )


def drop_store_seal(op) -> None:
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_seq", type_="unique")
        batch.drop_column("seal")
        batch.drop_column("seq")
