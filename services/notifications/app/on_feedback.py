"""Notices about feedback's events: meetings logged, surveys issued, concerns raised and escalated.

Confidential: nothing of a concern but that it exists is kept here or put in a message, and its
event is never parked (it would keep its text)."""

from __future__ import annotations

from services.eventkit import Envelope

from ..readmodels import concern_routing as concerns
from ..readmodels import directory, timers
from .notices import queue, web_link
from .unit_of_work import UnitOfWork
from .waiting import NotReady, Reactions, cycle_context, notifying, ready

reactions = Reactions()


@reactions.on("MeetingLogged")
def _meeting(uow: UnitOfWork, e: Envelope) -> None:
    timers.watch_meeting(uow.conn, e)
    _meeting_logged(uow, e)


@notifying
def _meeting_logged(uow: UnitOfWork, e: Envelope) -> None:
    # Only who logged it and when: the notes, topics and objectives stay in the feedback service.
    p = e.payload
    program, _ = cycle_context(uow, p["cycle_id"])
    members = directory.members(uow.conn, p["pair_id"])
    if not members:
        raise NotReady(p["pair_id"])
    logger = ready(uow, p["logged_by"])
    others = [m for m in members if m != p["logged_by"]]
    for person_id in others:
        ready(uow, person_id)
    for person_id in others:
        context = {
            "program": program,
            "logger": logger,
            "date": p["date"],
            "link": web_link(f"/meetings/{p['meeting_id']}"),
        }
        queue(uow, e, person_id, "meeting_logged", context)


@reactions.on("SurveyIssued")
@notifying
def _survey_issued(uow: UnitOfWork, e: Envelope) -> None:
    """Each person a survey was issued to is asked to answer it."""
    p = e.payload
    program, _ = cycle_context(uow, p["cycle_id"])
    recipients = [r["person_id"] for r in p["recipients"]]
    for person_id in recipients:
        ready(uow, person_id)
    for person_id in recipients:
        context = {
            "program": program,
            "due_on": p["due_on"],
            "link": web_link(f"/me/surveys/{p['instance_id']}"),
        }
        queue(uow, e, person_id, "survey_due", context)
        timers.schedule_reminders(uow.conn, e, person_id)


@reactions.on("SurveyAnswered")
def _survey_answered(uow: UnitOfWork, e: Envelope) -> None:
    timers.record_answer(uow.conn, e)


@reactions.on("ConcernRaised")
def _concern_raised(uow: UnitOfWork, e: Envelope) -> None:
    """To the coordinators of the program's institution (institution-wide, or of that program)
    who are not in the pair."""
    p, conn = e.payload, uow.conn
    cycle = directory.cycle(conn, p["cycle_id"])
    program = directory.program(conn, cycle.program_id) if cycle is not None else None
    institution_id = (program["institution_id"] if program else None) or e.institution_id
    program_id = program["id"] if program else None
    involved = sorted({p["raised_by"], *p["parties"], *directory.members(conn, p["pair_id"])})
    if not concerns.add(conn, p["concern_id"], institution_id, program_id, involved, e.event_id):
        return
    context = {"link": web_link(f"/coordinator/concerns/{p['concern_id']}")}
    for person_id in sorted(
        directory.coordinators(conn, institution_id, program_id) - set(involved)
    ):
        queue(uow, e, person_id, "concern_raised", context)


@reactions.on("ConcernResolved")
def _concern_resolved(uow: UnitOfWork, e: Envelope) -> None:
    # Only that it is closed: coordinators granted the role later are not told of it.
    concerns.resolve(uow.conn, e.payload["concern_id"])


@reactions.on("ConcernEscalated")
@notifying
def _concern_escalated(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    concern = concerns.find(uow.conn, p["concern_id"])
    if concern is None:
        raise NotReady(p["concern_id"])
    context = {"link": web_link(f"/coordinator/concerns/{p['concern_id']}")}
    for person_id in sorted(directory.consortium_admins(uow.conn) - concerns.involved(concern)):
        queue(uow, e, person_id, "concern_escalated", context)
