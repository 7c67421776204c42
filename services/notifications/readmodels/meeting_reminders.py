"""The day-before reminder of each scheduled meeting: set when a meeting is accepted or moved,
dropped when it is cancelled, taken by the timer loop when due. A row keeps the scheduling
event's payload, which holds everything the reminder says."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope
from services.eventkit.envelope import parse_time

from .tables import Timestamp, metadata

REMIND_BEFORE = dt.timedelta(days=1)

meeting_reminders = sa.Table(
    "meeting_reminders",
    metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("run_at", Timestamp, nullable=False, index=True),
    sa.Column("meeting", sa.JSON, nullable=False),  # the MeetingRequestAccepted/Rescheduled payload
    sa.Column("source_event_id", sa.String(36), nullable=False),
    sa.Column("correlation_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=True),
)


def drop(conn: sa.Connection, request_id: str) -> None:
    conn.execute(meeting_reminders.delete().where(meeting_reminders.c.request_id == request_id))


def set_for(conn: sa.Connection, e: Envelope) -> None:
    """The meeting's reminder, a day before it starts; none when it starts sooner than that."""
    p = e.payload
    drop(conn, p["request_id"])
    run_at = parse_time(p["starts_at"]) - REMIND_BEFORE
    if run_at <= e.occurred_at:
        return
    conn.execute(
        meeting_reminders.insert().values(
            request_id=p["request_id"], run_at=run_at, meeting=dict(p),
            source_event_id=e.event_id, correlation_id=e.correlation_id,
            institution_id=e.institution_id,
        )
    )  # fmt: skip


def due(conn: sa.Connection, now: dt.datetime, limit: int = 200) -> list[str]:
    r = meeting_reminders
    query = sa.select(r.c.request_id).where(r.c.run_at <= now).order_by(r.c.run_at).limit(limit)
    return list(conn.execute(query).scalars())


def take(conn: sa.Connection, request_id: str, now: dt.datetime) -> Any | None:
    """The due reminder, deleted: taking the row is the claim (a second worker gets None)."""
    r = meeting_reminders
    mine = (r.c.request_id == request_id) & (r.c.run_at <= now)
    row = conn.execute(sa.select(r).where(mine)).first()
    if row is None or conn.execute(r.delete().where(mine)).rowcount != 1:
        return None
    return row
