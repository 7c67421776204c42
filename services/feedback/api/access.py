"""Feedback's resources as the policy sees them, read from feedback's own read models.

A pair or group is its cycle's (institution, program) with its members as the people it is
about, whichever institution each member comes from; meetings and objectives are their pair's;
a concern is its cycle's, about its raiser, with every member of the pair (the raiser too) a
party who may not act on it as staff; a survey instance is about the people it was issued to.
Nothing here is taken from what the caller sends but the id of the resource itself, and the
records are read whatever the caller's row-level security scope: the policy decides on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from services.eventkit import rls
from services.eventkit.access import people, visible
from services.eventkit.db import one
from services.eventkit.http import runtime
from services.eventkit.policy import Resource, Who

from ..domain.relationships import Relationship
from ..readmodels import concerns, meeting_requests, meetings, objectives, roster, surveys

# How a concern's reader is named in its access log (ConfidentialRecordViewed.viewer_role).
VIEWER_ROLES = {
    Who.COORDINATOR: "coordinator",
    Who.ESCALATED_ADMIN: "consortium_admin",
    Who.SUBJECT: "raiser",
}


def cycle_of(cycle: Mapping[str, Any]) -> Resource:
    return Resource(cycle["institution_id"], cycle["program_id"])


def pair_of(rel: Relationship, cycle: Mapping[str, Any]) -> Resource:
    """A pair or group belongs to its cycle's program, wherever its members come from."""
    return Resource(cycle["institution_id"], cycle["program_id"], people(*rel.members))


def concern_of(concern: Mapping[str, Any], cycle: Mapping[str, Any] | None) -> Resource:
    """About its raiser; the raiser and the other members are parties, never its handlers."""
    institution_id = cycle["institution_id"] if cycle else concern["institution_id"]
    return Resource(
        institution_id,
        cycle["program_id"] if cycle else None,
        people=people(concern["raised_by"]),
        parties=people(concern["raised_by"], *concern["parties"]),
        escalated=bool(concern["escalated"]),
    )


def institution(institution_id: str) -> Resource:
    return Resource(institution_id)


def cycle(cycle_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        return cycle_of(roster.cycle(conn, cycle_id))


def pair(pair_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        return pair_of(*roster.relationship(conn, pair_id))


def meeting(meeting_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        found = meetings.meeting(conn, meeting_id)
        return pair_of(*roster.relationship(conn, found["pair_id"]))


def meeting_request(meeting_request_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        found = meeting_requests.request(conn, meeting_request_id)
        return pair_of(*roster.relationship(conn, found["pair_id"]))


def objective_of(found: Mapping[str, Any], rel: Relationship, cycle: Mapping[str, Any]) -> Resource:
    """A mentee's objective is theirs and their mentor's or coach's, in the cycle's program."""
    mine = people(found["mentee_id"], *rel.mentors)
    return Resource(cycle["institution_id"], cycle["program_id"], mine)


def objective(objective_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        found = one(conn, objectives.objectives, "objective", objective_id=objective_id)
        return objective_of(found, *roster.relationship(conn, found["pair_id"]))


def concern(concern_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        found = concerns.concern(conn, concern_id)
        return concern_of(found, roster.cycle_or_none(conn, found["cycle_id"]))


def template(template_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        found = surveys.template(conn, template_id)
        return Resource(found["institution_id"])


def instance_of(
    instance: Mapping[str, Any], cycle: Mapping[str, Any] | None, recipients: Iterable[str]
) -> Resource:
    """A survey instance is its cycle's, about the people it was issued to."""
    return Resource(
        cycle["institution_id"] if cycle else instance["institution_id"],
        cycle["program_id"] if cycle else None,
        people(*recipients),
    )


def survey_instance(instance_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        found = one(conn, surveys.survey_instances, "survey", instance_id=instance_id)
        recipients = surveys.recipients(conn, [instance_id]).get(instance_id, set())
        return instance_of(found, roster.cycle_or_none(conn, found["cycle_id"]), recipients)


def survey_cycle(instance_id: str) -> Resource:
    """An issued survey's results are its cycle's (like program health), about nobody in it."""
    with rls.routing(runtime()) as conn:
        found = one(conn, surveys.survey_instances, "survey", instance_id=instance_id)
        return cycle_of(roster.cycle(conn, found["cycle_id"]))


def visible_instances(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> list:
    """The survey instances among `rows` the caller may answer (survey.answer, row by row)."""
    recipients = surveys.recipients(conn, (x["instance_id"] for x in rows))
    cycles = roster.cycles_by_id(conn, (x["cycle_id"] for x in rows))
    return visible(
        "survey.answer",
        rows,
        lambda x: instance_of(x, cycles.get(x["cycle_id"]), recipients.get(x["instance_id"], ())),
    )


def visible_concerns(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> list:
    """The concerns among `rows` the caller may read (concern.read, row by row)."""
    cycles = roster.cycles_by_id(conn, (x["cycle_id"] for x in rows))
    return visible("concern.read", rows, lambda x: concern_of(x, cycles.get(x["cycle_id"])))
