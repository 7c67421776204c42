"""Meetings as logged and confirmed (feedback's own events), and the lookups of them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope
from services.eventkit.db import one
from services.eventkit.envelope import format_time
from services.eventkit.projections import Handler

from .schema import metadata

meetings = sa.Table(
    "meetings", metadata,
    sa.Column("meeting_id", sa.String(36), primary_key=True),
    sa.Column("pair_id", sa.String(36), nullable=False, index=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("logged_by", sa.String(36), nullable=False),
    sa.Column("met_on", sa.String(10), nullable=False, index=True),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("topics", sa.JSON, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("objectives", sa.JSON, nullable=False),
    sa.Column("action_items", sa.JSON, nullable=False),
    sa.Column("attendees", sa.JSON, nullable=False),
    sa.Column("objective_ids", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("logged_at", sa.String(40), nullable=False),
    sa.Column("confirmed_by", sa.String(36), nullable=True),
    sa.Column("confirmed_at", sa.String(40), nullable=True),
)  # fmt: skip


def _logged(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(meetings.insert().values(
        meeting_id=p["meeting_id"], pair_id=p["pair_id"], cycle_id=p["cycle_id"],
        institution_id=e.institution_id, logged_by=p["logged_by"], met_on=p["date"],
        duration_minutes=p["duration_minutes"], mode=p["mode"], topics=p["topics"],
        notes=p["notes"], objectives=p["objectives"], action_items=p["action_items"],
        attendees=p["attendees"], objective_ids=p.get("objective_ids", []), logged_at=format_time(e.occurred_at),
    ))  # fmt: skip


def _confirmed(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        meetings.update()
        .where(meetings.c.meeting_id == e.payload["meeting_id"])
        .values(confirmed_by=e.payload["confirmed_by"], confirmed_at=format_time(e.occurred_at))
    )


handlers: dict[str, Handler] = {"MeetingLogged": _logged, "MeetingConfirmed": _confirmed}


# --- lookups ------------------------------------------------------------------------------------


def meeting(conn: sa.Connection, meeting_id: str) -> sa.RowMapping:
    return one(conn, meetings, "meeting", meeting_id=meeting_id)


def of_pair(conn: sa.Connection, pair_id: str) -> list[sa.RowMapping]:
    """The pair's meetings, latest first."""
    m = meetings
    query = sa.select(m).where(m.c.pair_id == pair_id).order_by(m.c.met_on.desc())
    return list(conn.execute(query).mappings().all())


def of_cycle(conn: sa.Connection, cycle_id: str) -> list[dict[str, Any]]:
    """What health and outcomes count of each of the cycle's meetings."""
    m = meetings
    return [
        {
            "pair_id": r.pair_id,
            "date": r.met_on,
            "duration_minutes": r.duration_minutes,
            "mode": r.mode,
            "confirmed": r.confirmed_by is not None,
        }
        for r in conn.execute(sa.select(m).where(m.c.cycle_id == cycle_id))
    ]
