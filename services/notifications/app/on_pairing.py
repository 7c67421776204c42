"""Notices about pairing's events: pairs, coaching groups and mentoring families published (a
group or family is one notice per member naming everyone in it, never a notice per pair),
mentorship requests and their answers, mentees left without a mentor, rematches asked for."""

from __future__ import annotations

from services.eventkit import Envelope

from ..domain.schedule import local_time
from ..readmodels import directory, timers
from .notices import queue, web_link
from .unit_of_work import UnitOfWork
from .waiting import Reactions, cycle_context, notifying, ready

reactions = Reactions()


@reactions.on("PairCreated")
def _pair(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    directory.remember_members(uow.conn, p["pair_id"], [p["mentee_id"], p["mentor_id"]])
    timers.watch_pair(uow.conn, e)
    _pair_published(uow, e)


@reactions.on("PairEnded")
def _pair_ended(uow: UnitOfWork, e: Envelope) -> None:
    timers.end_watch(uow.conn, e)


@notifying
def _pair_published(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    program, expectations = cycle_context(uow, p["cycle_id"])
    mentee, mentor = ready(uow, p["mentee_id"]), ready(uow, p["mentor_id"])
    for me, partner, partner_role in ((mentee, mentor, "mentor"), (mentor, mentee, "mentee")):
        context = {
            "program": program,
            "partner": partner,
            "partner_role": partner_role,
            "meeting_expectations": expectations,
        }
        queue(uow, e, me["id"], "pair_published", context)


@reactions.on("GroupFormed")
def _group(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    directory.remember_members(uow.conn, p["group_id"], [p["coach_id"], *p["member_ids"]])
    timers.watch_pair(uow.conn, e, p["group_id"])
    _group_formed(uow, e)


@notifying
def _group_formed(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    program, expectations = cycle_context(uow, p["cycle_id"])
    coach = ready(uow, p["coach_id"])
    members = [ready(uow, m) for m in p["member_ids"]]
    for person_id in (p["coach_id"], *p["member_ids"]):
        context = {
            "program": program,
            "coach": coach,
            "members": members,
            "is_coach": person_id == p["coach_id"],
            "meeting_expectations": expectations,
        }
        queue(uow, e, person_id, "group_formed", context)


@reactions.on("FamilyFormed")
def _family(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    everyone = [p["senior_id"], p["mid_id"], *p["junior_ids"]]
    directory.remember_members(uow.conn, p["family_id"], everyone)
    timers.watch_pair(uow.conn, e, p["family_id"])
    _family_formed(uow, e)


@notifying
def _family_formed(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    program, expectations = cycle_context(uow, p["cycle_id"])
    senior, mid = ready(uow, p["senior_id"]), ready(uow, p["mid_id"])
    juniors = [ready(uow, j) for j in p["junior_ids"]]
    for person_id in (p["senior_id"], p["mid_id"], *p["junior_ids"]):
        context = {
            "program": program,
            "senior": senior,
            "mid": mid,
            "juniors": juniors,
            "is_senior": person_id == p["senior_id"],
            "meeting_expectations": expectations,
        }
        queue(uow, e, person_id, "family_formed", context)


@reactions.on("GroupEnded", "FamilyEnded")
def _unit_ended(uow: UnitOfWork, e: Envelope) -> None:
    timers.end_watch(uow.conn, e, e.payload.get("group_id") or e.payload["family_id"])


@reactions.on("MentorRequested")
@notifying
def _mentor_requested(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    program, _ = cycle_context(uow, p["cycle_id"])
    mentee, mentor = ready(uow, p["mentee_id"]), ready(uow, p["mentor_id"])
    zone = directory.institution_context(uow.conn, mentor["institution_id"])["time_zone"]
    context = {
        "program": program,
        "mentee": mentee,
        "rank": p["rank"],
        "deadline": local_time(p["deadline"], zone),
        "link": web_link(f"/requests/{p['request_id']}"),
    }
    queue(uow, e, p["mentor_id"], "mentor_requested", context)


@reactions.on("RequestExpired")
@notifying
def _request_expired(uow: UnitOfWork, e: Envelope) -> None:
    p = e.payload
    program, _ = cycle_context(uow, p["cycle_id"])
    ready(uow, p["mentee_id"])
    mentor = ready(uow, p["mentor_id"])
    context = {"program": program, "mentor": mentor, "link": web_link("/me/pair")}
    queue(uow, e, p["mentee_id"], "request_expired", context)


@reactions.on("MenteeUnmatched")
@notifying
def _mentee_unmatched(uow: UnitOfWork, e: Envelope) -> None:
    """The mentee, and the coordinators of the program (the reason is the system's own words)."""
    p = e.payload
    program, _ = cycle_context(uow, p["cycle_id"])
    mentee = ready(uow, p["mentee_id"])
    context = {"program": program, "reason": p["reason"]}
    queue(uow, e, p["mentee_id"], "unmatched", {**context, "link": web_link("/me/pair")})
    path = f"/coordinator/cycles/{p['cycle_id']}/pairing/people/{p['mentee_id']}"
    coordinators = directory.coordinators(uow.conn, program["institution_id"], program["id"])
    for person_id in sorted(coordinators):
        if person_id != p["mentee_id"]:
            context = {**context, "mentee": mentee, "link": web_link(path)}
            queue(uow, e, person_id, "mentee_unmatched", context)


@reactions.on("RematchRequested")
@notifying
def _rematch_requested(uow: UnitOfWork, e: Envelope) -> None:
    """Like a concern: to the program's coordinators who are not in the pair, and only that a
    rematch is asked for (who asked, and why, is read on the coordinator's concerns page)."""
    p = e.payload
    program, _ = cycle_context(uow, p["cycle_id"])
    involved = {p["person_id"], *directory.members(uow.conn, p["pair_id"])}
    coordinators = directory.coordinators(uow.conn, program["institution_id"], program["id"])
    context = {"program": program, "link": web_link("/coordinator/concerns#rematch-requests")}
    for person_id in sorted(coordinators - involved):
        queue(uow, e, person_id, "rematch_requested", context)


@reactions.on("RequestAccepted", "RequestDeclined")
@notifying
def _request_answered(uow: UnitOfWork, e: Envelope) -> None:
    # A decline's `reason` is the mentor's own note (or the system's "mentor full"), not written
    # for the mentee: it is left out.
    p = e.payload
    program, expectations = cycle_context(uow, p["cycle_id"])
    ready(uow, p["mentee_id"])
    mentor = ready(uow, p["mentor_id"])
    context = {
        "program": program,
        "mentor": mentor,
        "accepted": e.event_type == "RequestAccepted",
        "meeting_expectations": expectations,
        "link": web_link(f"/cycles/{p['cycle_id']}/choices"),
    }
    queue(uow, e, p["mentee_id"], "request_answered", context)
