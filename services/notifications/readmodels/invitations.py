"""Invitations on the coordinator's schedule: who is to be told they are enrolled, when, and who
has been. The reactions write the rows; the worker's inviter sends those due (app.invitations)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from services.eventkit import Envelope

from .tables import invitations

INVITED, SCHEDULED, MANUAL = "invited", "scheduled", "manual"


def _when(mode: str, invite_at: str | None, e: Envelope) -> dt.datetime | None:
    if mode == "now":
        return e.occurred_at  # sent in the order people were enrolled, at a steady rate
    if mode == "at" and invite_at:
        return dt.datetime.fromisoformat(invite_at)
    return None  # manual: not until the coordinator asks


def enrolled(conn: sa.Connection, e: Envelope, invited_at: dt.datetime | None = None) -> None:
    """ParticipantEnrolled: the invitation as the coordinator chose it (told at once, and so
    invited already, when they did not choose)."""
    p = e.payload
    mode = p.get("invitation") or "now"
    i = invitations
    if conn.execute(
        sa.select(i.c.enrollment_id).where(i.c.enrollment_id == p["enrollment_id"])
    ).first():
        return  # a repeat
    conn.execute(
        i.insert().values(
            enrollment_id=p["enrollment_id"], cycle_id=p["cycle_id"], program_id=p["program_id"],
            institution_id=e.institution_id, person_id=p["person_id"], role=p["role"], mode=mode,
            send_at=None if invited_at else _when(mode, p.get("invite_at"), e),
            invited_at=invited_at, enrolled_event_id=e.event_id, correlation_id=e.correlation_id,
        )
    )  # fmt: skip


def rescheduled(conn: sa.Connection, e: Envelope) -> None:
    """InvitationScheduled: a new choice for someone not invited yet."""
    p = e.payload
    i = invitations
    conn.execute(
        i.update()
        .where((i.c.enrollment_id == p["enrollment_id"]) & i.c.invited_at.is_(None))
        .values(mode=p["mode"], send_at=_when(p["mode"], p.get("invite_at"), e))
    )


def due(conn: sa.Connection, now: dt.datetime, limit: int) -> list[str]:
    """Enrollments whose invitation is due, longest due first."""
    i = invitations
    return list(
        conn.execute(
            sa.select(i.c.enrollment_id)
            .where(i.c.invited_at.is_(None) & (i.c.send_at <= now))
            .order_by(i.c.send_at, i.c.enrollment_id)
            .limit(limit)
        ).scalars()
    )


def take(conn: sa.Connection, enrollment_id: str, now: dt.datetime) -> sa.Row | None:
    """Mark the invitation sent now, if it is still due; the row if this call took it."""
    i = invitations
    row = conn.execute(sa.select(i).where(i.c.enrollment_id == enrollment_id)).first()
    if row is None or row.invited_at is not None or row.send_at is None:
        return None
    taken = conn.execute(
        i.update()
        .where((i.c.enrollment_id == enrollment_id) & i.c.invited_at.is_(None))
        .values(invited_at=now)
    ).rowcount
    return row if taken == 1 else None


def postpone(conn: sa.Connection, enrollment_id: str, until: dt.datetime) -> None:
    i = invitations
    conn.execute(
        i.update()
        .where((i.c.enrollment_id == enrollment_id) & i.c.invited_at.is_(None))
        .values(send_at=until)
    )


def of_cycle(
    conn: sa.Connection, cycle_id: str, enrollment_ids: Sequence[str] | None = None
) -> list[dict]:
    """Each participant's invitation: invited (when), scheduled (for when) or manual; with
    `enrollment_ids`, only theirs."""
    i = invitations
    query = sa.select(i).where(i.c.cycle_id == cycle_id)
    if enrollment_ids is not None:
        query = query.where(i.c.enrollment_id.in_(enrollment_ids))
    rows = conn.execute(query).mappings().all()
    return [
        {
            **row,
            "state": INVITED if row["invited_at"] else SCHEDULED if row["send_at"] else MANUAL,
        }
        for row in rows
    ]
