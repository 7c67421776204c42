"""Meetings on request as their events leave them (one row a request: its times, its answer, the
meeting it set), and what a request needs from the roster: the institution's time zone and the
members' availability grids."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope, Projection
from services.eventkit.db import one
from services.eventkit.envelope import format_time
from services.eventkit.projections import Handler

from .roster import institutions, participants
from .schema import metadata

meeting_requests = sa.Table(
    "meeting_requests", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("pair_id", sa.String(36), nullable=False, index=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("requested_by", sa.String(36), nullable=False),
    sa.Column("attendees", sa.JSON, nullable=False),
    sa.Column("options", sa.JSON, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("place", sa.String(500), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # pending|scheduled|declined|cancelled
    sa.Column("starts_at", sa.String(40), nullable=True, index=True),
    sa.Column("ends_at", sa.String(40), nullable=True),
    sa.Column("sequence", sa.Integer, nullable=False),
    sa.Column("answered_by", sa.String(36), nullable=True),
    sa.Column("answer_note", sa.Text, nullable=False, server_default=""),
    sa.Column("requested_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)  # fmt: skip


def _update(conn: sa.Connection, e: Envelope, **values: Any) -> None:
    conn.execute(
        meeting_requests.update()
        .where(meeting_requests.c.request_id == e.payload["request_id"])
        .values(updated_at=format_time(e.occurred_at), **values)
    )


def _requested(conn: sa.Connection, e: Envelope) -> None:
    p, at = e.payload, format_time(e.occurred_at)
    conn.execute(meeting_requests.delete().where(meeting_requests.c.request_id == p["request_id"]))
    conn.execute(meeting_requests.insert().values(
        request_id=p["request_id"], pair_id=p["pair_id"], cycle_id=p["cycle_id"],
        institution_id=e.institution_id, requested_by=p["requested_by"],
        attendees=p["attendees"], options=p["options"], duration_minutes=p["duration_minutes"],
        mode=p["mode"], place=p["place"], note=p["note"], time_zone=p["time_zone"],
        status="pending", sequence=-1, answer_note="", requested_at=at, updated_at=at,
    ))  # fmt: skip


def _scheduled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    answer = {"answered_by": p["accepted_by"]} if "accepted_by" in p else {}
    _update(conn, e, status="scheduled", starts_at=p["starts_at"], ends_at=p["ends_at"],
            sequence=p["sequence"], **answer)  # fmt: skip


def _declined(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _update(conn, e, status="declined", answered_by=p["declined_by"], answer_note=p["note"])


def _cancelled(conn: sa.Connection, e: Envelope) -> None:
    _update(conn, e, status="cancelled", sequence=e.payload["sequence"])


handlers: dict[str, Handler] = {
    "MeetingRequested": _requested,
    "MeetingRequestAccepted": _scheduled,
    "MeetingRescheduled": _scheduled,
    "MeetingRequestDeclined": _declined,
    "MeetingRequestCancelled": _cancelled,
}
meeting_requests_view = Projection("meeting_requests_view", [meeting_requests], handlers)


# --- lookups ------------------------------------------------------------------------------------


def request(conn: sa.Connection, request_id: str) -> sa.RowMapping:
    return one(conn, meeting_requests, "meeting request", request_id=request_id)


def of_pair(conn: sa.Connection, pair_id: str) -> list[sa.RowMapping]:
    """The pair's requests, the latest asked first."""
    r = meeting_requests
    query = sa.select(r).where(r.c.pair_id == pair_id).order_by(r.c.requested_at.desc())
    return list(conn.execute(query).mappings().all())


def of_pairs(conn: sa.Connection, pair_ids: Iterable[str]) -> list[sa.RowMapping]:
    """The requests of these pairs: scheduled ones by start, then the rest, latest first."""
    ids = list(pair_ids)
    if not ids:
        return []
    r = meeting_requests
    query = sa.select(r).where(r.c.pair_id.in_(ids)).order_by(r.c.requested_at.desc())
    return list(conn.execute(query).mappings().all())


def time_zone(conn: sa.Connection, institution_id: str) -> str:
    """The institution's time zone (UTC until its event has arrived)."""
    found = conn.execute(
        sa.select(institutions.c.time_zone).where(institutions.c.id == institution_id)
    ).scalar()
    return found or "UTC"


def availability(conn: sa.Connection, cycle_id: str, person_ids: Iterable[str]) -> list[list[str]]:
    """Each member's availability grid in the cycle (empty when they gave none)."""
    p = participants
    ids = set(person_ids)
    rows = conn.execute(
        sa.select(p.c.person_id, p.c.availability).where(
            p.c.cycle_id == cycle_id, p.c.person_id.in_(ids)
        )
    )
    return [list(r.availability or []) for r in rows]
