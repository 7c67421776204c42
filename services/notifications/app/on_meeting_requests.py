"""Notices about meetings on request: the other side is asked to choose a time, the requester
hears of a decline, and every attendee is emailed the calendar invitation (.ics) when a meeting is
set or moved, its cancellation when it is called off, and a reminder the day before."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from services.eventkit import Envelope
from services.eventkit.envelope import parse_time

from ..domain.invitations import Invitation, Person, ics
from ..readmodels import meeting_reminders
from .notices import Cause, queue, web_link
from .unit_of_work import UnitOfWork
from .waiting import Reactions, cycle_context, notifying, ready

reactions = Reactions()
MODES = {"in_person": "in person", "virtual": "by video"}


def when(iso: str, time_zone: str) -> str:
    """A time as the institution's clock shows it: 'Wed 11 Mar 2026, 14:00'."""
    return parse_time(iso).astimezone(ZoneInfo(time_zone)).strftime("%a %d %b %Y, %H:%M")


def _names(people: Mapping[str, dict[str, Any]], but: str | None = None) -> str:
    return " and ".join(sorted(p["name"] for i, p in people.items() if i != but))


def _attendees(uow: UnitOfWork, p: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every attendee, known (else the reaction waits for them)."""
    return {person_id: ready(uow, person_id) for person_id in p["attendees"]}


def _context(uow: UnitOfWork, p: Mapping[str, Any]) -> dict[str, Any]:
    program, _ = cycle_context(uow, p["cycle_id"])
    return {"program": program, "time_zone": p["time_zone"], "link": web_link("/me/meetings")}


@reactions.on("MeetingRequested")
@notifying
def _requested(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    context, people = _context(uow, p), _attendees(uow, p)
    context |= {
        "requester": people[p["requested_by"]],
        "times": [when(t, p["time_zone"]) for t in p["options"]],
        "duration": p["duration_minutes"], "mode": MODES[p["mode"]], "place": p["place"],
        "note": p["note"],
    }  # fmt: skip
    for person_id in sorted(set(people) - {p["requested_by"]}):
        queue(uow, e, person_id, "meeting_requested", context)


@reactions.on("MeetingRequestDeclined")
@notifying
def _declined(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    context = _context(uow, {**p, "time_zone": "UTC"})
    context |= {"answerer": ready(uow, p["declined_by"]), "note": p["note"]}
    queue(uow, e, p["requested_by"], "meeting_declined", context)


def invitation(p: Mapping[str, Any], people: Mapping[str, dict[str, Any]], program: str,
               link: str, cancelled: bool = False) -> Invitation:  # fmt: skip
    """The calendar object of a scheduling event's payload."""

    def person(person_id: str) -> Person:
        return Person(people[person_id]["name"], people[person_id]["email"])

    description = "\n\n".join(x for x in (p["note"], f"Tandem: {link}") if x)
    return Invitation(
        request_id=p["request_id"], sequence=p["sequence"],
        starts_at=parse_time(p["starts_at"]), ends_at=parse_time(p["ends_at"]),
        time_zone=p["time_zone"], summary=f"{program} meeting: {_names(people)}",
        organizer=person(p["organizer"]),
        attendees=[person(i) for i in sorted(people) if people[i]["email"]],
        location=p["place"], description=description, cancelled=cancelled,
    )  # fmt: skip


@reactions.on("MeetingRequestAccepted", "MeetingRescheduled")
@notifying
def _scheduled(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    context, people = _context(uow, p), _attendees(uow, p)
    calendar = ics(
        invitation(p, people, context["program"]["name"], context["link"]), e.occurred_at
    )
    context |= {"when": when(p["starts_at"], p["time_zone"]), "place": p["place"],
                "sequence": p["sequence"]}  # fmt: skip
    for person_id in sorted(people):
        notice = {**context, "others": _names(people, but=person_id)}
        queue(uow, e, person_id, "meeting_scheduled", notice, calendar=calendar)
    meeting_reminders.set_for(uow.conn, e)


@reactions.on("MeetingRequestCancelled")
@notifying
def _cancelled(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    meeting_reminders.drop(uow.conn, p["request_id"])
    context, people = _context(uow, p), _attendees(uow, p)
    calendar = ""
    if p["was_scheduled"]:
        made = invitation(p, people, context["program"]["name"], context["link"], cancelled=True)
        calendar = ics(made, e.occurred_at)
    context |= {"when": when(p["starts_at"], p["time_zone"]), "was_scheduled": p["was_scheduled"],
                "canceller": people[p["cancelled_by"]]}  # fmt: skip
    told = (
        people
        if p["was_scheduled"]
        else {i: x for i, x in people.items() if i != p["cancelled_by"]}
    )
    for person_id in sorted(told):
        queue(uow, e, person_id, "meeting_cancelled", context, calendar=calendar)


def remind(uow: UnitOfWork, request_id: str) -> int:
    """The day-before reminder of a meeting, to every attendee, if it is still due."""
    row = meeting_reminders.take(uow.conn, request_id, uow.clock())
    if row is None:
        return 0
    p = row.meeting
    if parse_time(p["starts_at"]) <= uow.clock():
        return 0
    context, people = _context(uow, p), {i: ready(uow, i) for i in p["attendees"]}
    context |= {"when": when(p["starts_at"], p["time_zone"]), "place": p["place"]}
    cause = Cause(row.source_event_id, row.correlation_id, row.institution_id)
    queued = 0
    for person_id in sorted(people):
        key = f"meeting-reminder/{request_id}/{p['sequence']}/{person_id}"
        notice = {**context, "others": _names(people, but=person_id)}
        queued += queue(uow, cause, person_id, "meeting_reminder", notice, key=key)
    return queued
