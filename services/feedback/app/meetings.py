"""A pair's meetings: a member logs one (dated by the clock's today), another confirms it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from services.eventkit.db import one
from services.eventkit.envelope import new_id

from .. import readmodels as rm
from .. import relationships
from ..domain.meetings import Meeting
from .unit_of_work import UnitOfWork


def log(
    uow: UnitOfWork,
    pair_id: str,
    by: str,
    date: dt.date,
    duration_minutes: int,
    mode: str,
    topics: Sequence[str] = (),
    notes: str = "",
    objectives: Sequence[str] = (),
    action_items: Sequence[str] = (),
    attendees: Sequence[str] = (),
) -> str:
    """The new meeting's id."""
    rel, cycle = relationships.relationship(uow.conn, pair_id)
    meeting = Meeting(new_id())
    meeting.log(
        rel, by, date, uow.clock().date(), duration_minutes, mode, topics, notes, objectives,
        action_items, attendees,
    )  # fmt: skip
    uow.save(meeting, cycle["institution_id"])
    return meeting.id


def confirm(uow: UnitOfWork, meeting_id: str, by: str) -> None:
    row = one(uow.conn, rm.meetings, "meeting", meeting_id=meeting_id)
    rel, cycle = relationships.relationship(uow.conn, row["pair_id"])
    meeting = uow.load(Meeting, meeting_id)
    meeting.confirm(rel, by)
    uow.save(meeting, cycle["institution_id"])
