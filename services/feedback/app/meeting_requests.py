"""Meetings on request: a member proposes times (offered from the members' availability, in the
institution's time zone), the other side accepts one or declines, and the meeting it sets is
rescheduled or cancelled. Times given without a zone are the institution's local times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from services.eventkit.envelope import new_id

from ..domain.meeting_requests import MeetingRequest
from ..domain.meeting_times import local, suggest
from ..domain.relationships import Relationship
from ..readmodels import meeting_requests as held
from ..readmodels import roster
from .unit_of_work import UnitOfWork


def _context(uow: UnitOfWork, pair_id: str) -> tuple[Relationship, dict[str, Any], str]:
    rel, cycle = roster.relationship(uow.conn, pair_id)
    return rel, dict(cycle), held.time_zone(uow.conn, cycle["institution_id"])


def suggested_times(uow: UnitOfWork, pair_id: str) -> tuple[str, list[dt.datetime]]:
    """The institution's time zone and the times to offer, from every member's grid."""
    rel, cycle, zone = _context(uow, pair_id)
    grids = held.availability(uow.conn, cycle["id"], rel.members)
    return zone, suggest(grids, zone, uow.clock())


def propose(
    uow: UnitOfWork, pair_id: str, by: str, options: Sequence[dt.datetime], **details: Any
) -> str:
    """A member proposes times (`details`: duration_minutes, mode, place, note); the new
    request's id."""
    rel, cycle, zone = _context(uow, pair_id)
    request = MeetingRequest(new_id())
    times = [local(t, zone) for t in options]
    request.propose(rel, by, times, uow.clock(), time_zone=zone, **details)
    uow.save_about(request, cycle["institution_id"])
    return request.id


def _act(uow: UnitOfWork, request_id: str, act: Any) -> None:
    row = held.request(uow.conn, request_id)
    rel, cycle = roster.relationship(uow.conn, row["pair_id"])
    request = uow.load(MeetingRequest, request_id)
    act(request, rel)
    uow.save_about(request, cycle["institution_id"])


def accept(uow: UnitOfWork, request_id: str, by: str, starts_at: dt.datetime) -> None:
    zone = held.request(uow.conn, request_id)["time_zone"]
    _act(uow, request_id, lambda r, rel: r.accept(rel, by, local(starts_at, zone), uow.clock()))


def decline(uow: UnitOfWork, request_id: str, by: str, note: str = "") -> None:
    _act(uow, request_id, lambda r, rel: r.decline(rel, by, note))


def reschedule(uow: UnitOfWork, request_id: str, by: str, starts_at: dt.datetime) -> None:
    zone = held.request(uow.conn, request_id)["time_zone"]
    _act(uow, request_id, lambda r, rel: r.reschedule(rel, by, local(starts_at, zone), uow.clock()))


def cancel(uow: UnitOfWork, request_id: str, by: str) -> None:
    _act(uow, request_id, lambda r, rel: r.cancel(rel, by))
