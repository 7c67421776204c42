"""Confidential concerns and the log of every read of their content (feedback's own events), and
the lookups of them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope
from services.eventkit.db import one
from services.eventkit.envelope import format_time
from services.eventkit.projections import Handler

from ..domain.concerns import RAISED
from .schema import metadata

concerns = sa.Table(
    "concerns", metadata,
    sa.Column("concern_id", sa.String(36), primary_key=True),
    sa.Column("pair_id", sa.String(36), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=True, index=True),
    sa.Column("raised_by", sa.String(36), nullable=False, index=True),
    sa.Column("raiser_role", sa.String(10), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("parties", sa.JSON, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("raised_at", sa.String(40), nullable=False),
    sa.Column("ack_due", sa.String(40), nullable=False, index=True),
    sa.Column("acknowledged_by", sa.String(36), nullable=True),
    sa.Column("acknowledged_at", sa.String(40), nullable=True),
    sa.Column("escalated", sa.Boolean, nullable=False),
    sa.Column("escalation_reason", sa.String(20), nullable=True),
    sa.Column("escalated_at", sa.String(40), nullable=True),
    sa.Column("resolved_by", sa.String(36), nullable=True),
    sa.Column("resolved_at", sa.String(40), nullable=True),
    sa.Column("resolution_note", sa.Text, nullable=True),
    sa.Column("about_id", sa.String(36), nullable=True),  # the member it is about
)  # fmt: skip
concern_actions = sa.Table(
    "concern_actions", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("concern_id", sa.String(36), nullable=False, index=True),
    sa.Column("action", sa.String(20), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("taken_by", sa.String(36), nullable=False),
    sa.Column("taken_at", sa.String(40), nullable=False),
)  # fmt: skip
concern_access = sa.Table(
    "concern_access", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("concern_id", sa.String(36), nullable=False, index=True),
    sa.Column("viewer_id", sa.String(36), nullable=False),
    sa.Column("viewer_role", sa.String(20), nullable=False),
    sa.Column("viewed_at", sa.String(40), nullable=False),
)  # fmt: skip


def _raised(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(concerns.insert().values(
        concern_id=p["concern_id"], pair_id=p["pair_id"], cycle_id=p["cycle_id"],
        institution_id=e.institution_id, raised_by=p["raised_by"], raiser_role=p["raiser_role"],
        kind=p["kind"], text=p["text"], parties=p["parties"], status="raised",
        raised_at=format_time(e.occurred_at), ack_due=p["ack_due"], escalated=False,
        about_id=p.get("about_id"),
    ))  # fmt: skip


def _update(conn: sa.Connection, e: Envelope, **values: Any) -> None:
    conn.execute(
        concerns.update().where(concerns.c.concern_id == e.payload["concern_id"]).values(**values)
    )


def _acknowledged(conn: sa.Connection, e: Envelope) -> None:
    _update(
        conn, e, status="acknowledged", acknowledged_by=e.payload["acknowledged_by"],
        acknowledged_at=format_time(e.occurred_at),
    )  # fmt: skip


def _escalated(conn: sa.Connection, e: Envelope) -> None:
    _update(
        conn, e, escalated=True, escalation_reason=e.payload["reason"],
        escalated_at=format_time(e.occurred_at),
    )  # fmt: skip


def _resolved(conn: sa.Connection, e: Envelope) -> None:
    _update(
        conn, e, status="resolved", resolved_by=e.payload["resolved_by"],
        resolved_at=format_time(e.occurred_at), resolution_note=e.payload["note"],
    )  # fmt: skip


def _followed_up(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(concern_actions.insert().values(
        event_id=e.event_id, concern_id=p["concern_id"], action=p["action"], note=p["note"],
        taken_by=p["by"], taken_at=format_time(e.occurred_at),
    ))  # fmt: skip


def _viewed(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(concern_access.insert().values(
        event_id=e.event_id, concern_id=p["concern_id"], viewer_id=p["viewer_id"],
        viewer_role=p["viewer_role"], viewed_at=format_time(e.occurred_at),
    ))  # fmt: skip


handlers: dict[str, Handler] = {
    "ConcernRaised": _raised,
    "ConcernAcknowledged": _acknowledged,
    "ConcernEscalated": _escalated,
    "ConcernResolved": _resolved,
    "ConcernFollowedUp": _followed_up,
    "ConfidentialRecordViewed": _viewed,
}


# --- lookups ------------------------------------------------------------------------------------


def concern(conn: sa.Connection, concern_id: str) -> sa.RowMapping:
    return one(conn, concerns, "concern", concern_id=concern_id)


def listed(conn: sa.Connection, cycle_id: str | None, status: str | None) -> list[sa.RowMapping]:
    """Concerns, oldest first, of the cycle and in the status if given."""
    c = concerns
    query = sa.select(c).order_by(c.c.raised_at)
    if cycle_id:
        query = query.where(c.c.cycle_id == cycle_id)
    if status:
        query = query.where(c.c.status == status)
    return list(conn.execute(query).mappings().all())


def reads(conn: sa.Connection, concern_id: str) -> list[sa.RowMapping]:
    """Who read the concern's content, and when."""
    a = concern_access
    query = sa.select(a).where(a.c.concern_id == concern_id).order_by(a.c.viewed_at)
    return list(conn.execute(query).mappings().all())


def actions(conn: sa.Connection, concern_id: str) -> list[sa.RowMapping]:
    """What its handlers did following the concern, oldest first."""
    a = concern_actions
    query = sa.select(a).where(a.c.concern_id == concern_id).order_by(a.c.taken_at)
    return list(conn.execute(query).mappings().all())


def overdue(conn: sa.Connection, now: dt.datetime) -> list[tuple[str, str | None]]:
    """Concerns nobody acknowledged by their deadline, not escalated yet (oldest first)."""
    c = concerns
    rows = conn.execute(
        sa.select(c.c.concern_id, c.c.institution_id)
        .where(c.c.status == RAISED, c.c.escalated.is_(False), c.c.ack_due <= format_time(now))
        .order_by(c.c.ack_due)
    )
    return [(r.concern_id, r.institution_id) for r in rows]
