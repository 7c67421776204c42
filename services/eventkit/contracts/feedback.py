"""Events on tandem.feedback.v1: meetings, objectives, confidential concerns and their audit trail.

Concern events carry confidential text. A consumer of this topic must never show a concern's text,
kind or raiser to anyone: the feedback API is the only place that decides who reads them (and
records every read as `ConfidentialRecordViewed`).
"""

from __future__ import annotations

import datetime as dt

import marshmallow as ma
from marshmallow import validate

from ..registry import Registry
from . import meeting_requests

# The survey item kinds live in .surveys; named here too, with the events that carry them.
from .surveys import LIKERT_POINTS as LIKERT_POINTS
from .surveys import SURVEY_ITEM_KINDS as SURVEY_ITEM_KINDS

registry = Registry()

F = ma.fields

MEETING_MODES = ("in_person", "virtual")
OBJECTIVE_AREAS = (
    "career_planning", "resume", "applications", "interviews", "research", "wellbeing",
    "clinical_skills", "other",
)  # fmt: skip
OBJECTIVE_STATUSES = ("open", "in_progress", "done", "dropped")
STEP_STATUSES = ("not_started", "in_progress", "done")  # a step of an objective's action plan
CONCERN_KINDS = ("no_contact", "boundary", "rematch", "other")
# What a coordinator did following a concern: ended the pair, rematched its people, noted to file.
CONCERN_ACTIONS = ("pair_ended", "rematch", "note")
# Whom a survey issued now goes to: the whole cycle, chosen pairs and groups, or those at risk.
SURVEY_AUDIENCES = ("cycle", "chosen", "at_risk")
ESCALATION_REASONS = ("coordinator_party", "not_acknowledged")
ROLES_IN_PAIR = ("mentor", "mentee")


def _texts(max_items: int = 20, max_length: int = 500):
    return F.List(
        F.String(validate=validate.Length(min=1, max=max_length)),
        load_default=list,
        validate=validate.Length(max=max_items),
    )


# --- meetings -----------------------------------------------------------------------------------


@registry.event("MeetingLogged")
class MeetingLogged(ma.Schema):
    """A meeting of a pair (or a coaching group), as one member logged it."""

    meeting_id = F.String(required=True)
    pair_id = F.String(required=True)  # a pair id, or a group id for group meetings
    cycle_id = F.String(required=True)
    logged_by = F.String(required=True)
    date = F.String(required=True)  # ISO date, the day the meeting took place
    duration_minutes = F.Integer(required=True, validate=validate.Range(min=5, max=600))
    mode = F.String(required=True, validate=validate.OneOf(MEETING_MODES))
    topics = _texts(20, 100)
    notes = F.String(load_default="", validate=validate.Length(max=5000))
    objectives = _texts()  # objectives set or reviewed, as the member wrote them
    action_items = _texts()
    attendees = F.List(F.String(), load_default=list)  # group meetings: who came
    objective_ids = F.List(F.String(), load_default=list)  # the recorded objectives discussed


@registry.event("MeetingConfirmed")
class MeetingConfirmed(ma.Schema):
    meeting_id = F.String(required=True)
    pair_id = F.String(required=True)
    cycle_id = F.String(required=True)
    confirmed_by = F.String(required=True)


# --- objectives (a mentee's action plan) --------------------------------------------------------


@registry.event("ObjectiveSet")
class ObjectiveSet(ma.Schema):
    objective_id = F.String(required=True)
    pair_id = F.String(required=True)
    cycle_id = F.String(required=True)
    mentee_id = F.String(required=True)
    area = F.String(required=True, validate=validate.OneOf(OBJECTIVE_AREAS))
    title = F.String(required=True, validate=validate.Length(min=1, max=200))
    description = F.String(load_default="", validate=validate.Length(max=2000))
    due_date = F.String(load_default=None, allow_none=True)
    set_by = F.String(required=True)


@registry.event("ObjectiveUpdated")
class ObjectiveUpdated(ma.Schema):
    objective_id = F.String(required=True)
    pair_id = F.String(required=True)
    mentee_id = F.String(required=True)
    status = F.String(required=True, validate=validate.OneOf(OBJECTIVE_STATUSES))
    note = F.String(load_default="", validate=validate.Length(max=2000))
    updated_by = F.String(required=True)


@registry.event("ObjectiveEdited")
class ObjectiveEdited(ma.Schema):
    """The area, statement, description or due date changed; an agreement given before no
    longer holds (the mentor agrees again)."""

    objective_id = F.String(required=True)
    pair_id = F.String(required=True)
    mentee_id = F.String(required=True)
    area = F.String(required=True, validate=validate.OneOf(OBJECTIVE_AREAS))
    title = F.String(required=True, validate=validate.Length(min=1, max=200))
    description = F.String(load_default="", validate=validate.Length(max=2000))
    due_date = F.String(load_default=None, allow_none=True)
    edited_by = F.String(required=True)


@registry.event("ObjectiveMoved")
class ObjectiveMoved(ma.Schema):
    """The objective's place in its mentee's list (0 first)."""

    objective_id = F.String(required=True)
    pair_id = F.String(required=True)
    mentee_id = F.String(required=True)
    position = F.Integer(required=True, validate=validate.Range(min=0))
    moved_by = F.String(required=True)


@registry.event("ActionStepPlanned")
class ActionStepPlanned(ma.Schema):
    """A step of the objective's action plan, added or changed (its text, due date, status)."""

    objective_id = F.String(required=True)
    pair_id = F.String(required=True)
    mentee_id = F.String(required=True)
    step_id = F.String(required=True)
    text = F.String(required=True, validate=validate.Length(min=1, max=500))
    due_date = F.String(load_default=None, allow_none=True)
    status = F.String(required=True, validate=validate.OneOf(STEP_STATUSES))
    planned_by = F.String(required=True)


@registry.event("ObjectiveCommented")
class ObjectiveCommented(ma.Schema):
    objective_id = F.String(required=True)
    pair_id = F.String(required=True)
    mentee_id = F.String(required=True)
    text = F.String(required=True, validate=validate.Length(min=1, max=2000))
    commented_by = F.String(required=True)


@registry.event("ObjectiveAgreed")
class ObjectiveAgreed(ma.Schema):
    """The mentor or coach agrees the objective and its action plan as they stand."""

    objective_id = F.String(required=True)
    pair_id = F.String(required=True)
    mentee_id = F.String(required=True)
    agreed_by = F.String(required=True)


# --- confidential concerns ----------------------------------------------------------------------


@registry.event("ConcernRaised")
class ConcernRaised(ma.Schema):
    """Confidential: only the coordinators of the program's institution (who are not parties to
    it) read it, and the consortium admin once it is escalated."""

    concern_id = F.String(required=True)
    pair_id = F.String(required=True)
    cycle_id = F.String(required=True)
    raised_by = F.String(required=True)
    raiser_role = F.String(required=True, validate=validate.OneOf(ROLES_IN_PAIR))
    kind = F.String(required=True, validate=validate.OneOf(CONCERN_KINDS))
    text = F.String(required=True, validate=validate.Length(min=1, max=5000))
    parties = F.List(F.String(), required=True)  # the other members: never shown the concern
    ack_due = F.String(required=True)  # ISO 8601, UTC
    # The member of the pair or group the concern is about (the raiser may name themselves).
    about_id = F.String(load_default=None, allow_none=True)


@registry.event("ConcernAcknowledged")
class ConcernAcknowledged(ma.Schema):
    concern_id = F.String(required=True)
    acknowledged_by = F.String(required=True)


@registry.event("ConcernEscalated")
class ConcernEscalated(ma.Schema):
    concern_id = F.String(required=True)
    reason = F.String(required=True, validate=validate.OneOf(ESCALATION_REASONS))


@registry.event("ConcernResolved")
class ConcernResolved(ma.Schema):
    concern_id = F.String(required=True)
    resolved_by = F.String(required=True)
    note = F.String(required=True, validate=validate.Length(min=1, max=5000))


@registry.event("ConcernFollowedUp")
class ConcernFollowedUp(ma.Schema):
    """What a handler did following a concern (confidential like the concern): ended the pair,
    rematched its people, or a note to file."""

    concern_id = F.String(required=True)
    action = F.String(required=True, validate=validate.OneOf(CONCERN_ACTIONS))
    note = F.String(load_default="", validate=validate.Length(max=5000))
    by = F.String(required=True)


@registry.event("ConfidentialRecordViewed")
class ConfidentialRecordViewed(ma.Schema):
    """The audit trail: who read which concern (the envelope's occurred_at says when)."""

    concern_id = F.String(required=True)
    viewer_id = F.String(required=True)
    viewer_role = F.String(required=True)


@registry.event("RecordsExported")
class RecordsExported(ma.Schema):
    """A coordinator or the consortium admin took an export of a cycle's records (audited)."""

    what = F.String(required=True, validate=validate.Length(max=100))
    cycle_id = F.String(required=True)
    program_id = F.String(load_default=None, allow_none=True)
    rows = F.Integer(required=True)


# --- surveys ------------------------------------------------------------------------------------


class SurveyItem(ma.Schema):
    """One question of a template. `labels`: the five Likert points' labels (1 to 5); `options`:
    a single-choice item's options; `max_length`: a free-text item's longest answer."""

    item_id = F.String(required=True, validate=validate.Length(min=1, max=40))
    kind = F.String(required=True, validate=validate.OneOf(SURVEY_ITEM_KINDS))
    prompt = F.String(required=True, validate=validate.Length(min=1, max=500))
    required = F.Boolean(load_default=True)
    labels = F.List(F.String(), load_default=list)
    options = F.List(F.String(), load_default=list)
    max_length = F.Integer(load_default=None, allow_none=True)
    # A free-text item whose answers coordinators may read (de-identified, 5 answers or more).
    shared = F.Boolean(load_default=False)


@registry.event("SurveyTemplateDefined")
class SurveyTemplateDefined(ma.Schema):
    """A coordinator's survey template for an institution's programs (templates do not change:
    define a new one instead). `builtin`: the ready-made template it was seeded from, if any."""

    template_id = F.String(required=True)
    institution_id = F.String(required=True)
    name = F.String(required=True, validate=validate.Length(min=1, max=200))
    description = F.String(load_default="", validate=validate.Length(max=2000))
    builtin = F.String(load_default=None, allow_none=True)
    items = F.List(F.Nested(SurveyItem), required=True, validate=validate.Length(min=1, max=50))
    defined_by = F.String(required=True)


DAYS_TO_ANSWER = 14  # a survey's default time to answer, from the day it is issued
MAX_DAYS_TO_ANSWER = 120


def _scheduled_v1_to_v2(payload: dict) -> dict:
    # Version 1 schedules gave everyone the default time to answer.
    return {**payload, "days_to_answer": DAYS_TO_ANSWER}


@registry.event("SurveyScheduled", version=2, upcasters={1: _scheduled_v1_to_v2})
class SurveyScheduled(ma.Schema):
    """A template to be issued to a cycle's active pair members at these months of the cycle,
    each issue to be answered within `days_to_answer` days."""

    schedule_id = F.String(required=True)
    template_id = F.String(required=True)
    cycle_id = F.String(required=True)
    months = F.List(F.Integer(validate=validate.Range(min=0, max=60)), required=True)
    scheduled_by = F.String(required=True)
    days_to_answer = F.Integer(
        load_default=DAYS_TO_ANSWER, validate=validate.Range(min=1, max=MAX_DAYS_TO_ANSWER)
    )


class SurveyRecipient(ma.Schema):
    person_id = F.String(required=True)
    pair_id = F.String(required=True)
    role = F.String(required=True, validate=validate.OneOf(ROLES_IN_PAIR))


def _issued_v1_to_v2(payload: dict) -> dict:
    # Version 1 named the day of issue `due_on` and set no deadline: the default one applies.
    issued_on = dt.date.fromisoformat(payload["due_on"])
    due_on = issued_on + dt.timedelta(days=DAYS_TO_ANSWER)
    return {**payload, "issued_on": issued_on.isoformat(), "due_on": due_on.isoformat()}


@registry.event("SurveyIssued", version=2, upcasters={1: _issued_v1_to_v2})
class SurveyIssued(ma.Schema):
    """One scheduled month's survey, issued once to every member of an active pair or group, to
    be answered by `due_on`; or one a coordinator issued now (`issued_by`, to `audience`: its
    own id is its `schedule_id`, `month` the month of the cycle it was issued in)."""

    instance_id = F.String(required=True)
    schedule_id = F.String(required=True)
    template_id = F.String(required=True)
    cycle_id = F.String(required=True)
    month = F.Integer(required=True)
    issued_on = F.String(required=True)  # ISO date: the scheduled day of the cycle
    due_on = F.String(required=True)  # ISO date: answer by this day
    recipients = F.List(F.Nested(SurveyRecipient), required=True)
    issued_by = F.String(load_default=None, allow_none=True)
    audience = F.String(
        load_default=None, allow_none=True, validate=validate.OneOf(SURVEY_AUDIENCES)
    )


@registry.event("SurveyAnswered")
class SurveyAnswered(ma.Schema):
    """A person's answers to a survey instance; revision 2 onwards edits the earlier answers
    (every revision is kept). Free-text answers are as confidential as meeting notes."""

    instance_id = F.String(required=True)
    person_id = F.String(required=True)
    revision = F.Integer(required=True, validate=validate.Range(min=1))
    answers = F.Dict(keys=F.String(), values=F.Raw(allow_none=True), required=True)


# --- meetings on request (declared in .meeting_requests) ---------------------------------------

for _name, _schema in meeting_requests.EVENTS.items():
    registry.register(_name, _schema)
