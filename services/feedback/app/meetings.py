"""A pair's meetings: a member logs one (dated by the clock's today), another confirms it."""

from __future__ import annotations

from typing import Any

from services.eventkit.envelope import new_id

from ..domain.meetings import Meeting
from ..readmodels import meetings, objectives, roster
from .unit_of_work import UnitOfWork


def log(uow: UnitOfWork, pair_id: str, by: str, **details: Any) -> str:
    """A member logs a meeting of their pair (`details`: Meeting.log's date, duration_minutes,
    mode, topics, notes, objectives, action_items, attendees, objective_ids); the new meeting's
    id."""
    rel, cycle = roster.relationship(uow.conn, pair_id)
    meeting = Meeting(new_id())
    known = objectives.ids_of_pair(uow.conn, pair_id)
    meeting.log(rel, by, today=uow.clock().date(), known_objectives=known, **details)
    uow.save_about(meeting, cycle["institution_id"])
    return meeting.id


def confirm(uow: UnitOfWork, meeting_id: str, by: str) -> None:
    row = meetings.meeting(uow.conn, meeting_id)
    rel, cycle = roster.relationship(uow.conn, row["pair_id"])
    meeting = uow.load(Meeting, meeting_id)
    meeting.confirm(rel, by)
    uow.save_about(meeting, cycle["institution_id"])
