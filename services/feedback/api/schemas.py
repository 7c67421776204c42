"""What feedback's API takes and answers (marshmallow schemas; the OpenAPI is built from them)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from services.eventkit.contracts.feedback import (
    CONCERN_KINDS,
    DAYS_TO_ANSWER,
    MAX_DAYS_TO_ANSWER,
    MEETING_MODES,
    OBJECTIVE_AREAS,
    OBJECTIVE_STATUSES,
)
from services.eventkit.contracts.surveys import SURVEY_ITEM_KINDS, TEXT_MAX_LENGTH, item_shape_error

from ..domain.builtin_surveys import BUILTIN_TEMPLATES

F = ma.fields
DateField = F.Date  # ISO dates in and out


def _texts(max_items: int, max_length: int):
    return F.List(
        F.String(validate=validate.Length(max=max_length)),
        load_default=list,
        validate=validate.Length(max=max_items),
    )


# --- meetings, objectives, concerns, health -------------------------------------------------------


class MeetingIn(ma.Schema):
    date = DateField(required=True)
    duration_minutes = F.Integer(required=True, validate=validate.Range(min=5, max=600))
    mode = F.String(required=True, validate=validate.OneOf(MEETING_MODES))
    topics = _texts(20, 100)
    notes = F.String(load_default="", validate=validate.Length(max=5000))
    objectives = _texts(20, 500)
    action_items = _texts(20, 500)
    attendees = F.List(F.String(), load_default=list)


class MeetingOut(ma.Schema):
    meeting_id = F.String()
    pair_id = F.String()
    cycle_id = F.String()
    logged_by = F.String()
    date = F.String(attribute="met_on")
    duration_minutes = F.Integer()
    mode = F.String()
    topics = F.List(F.String())
    notes = F.String()
    objectives = F.List(F.String())
    action_items = F.List(F.String())
    attendees = F.List(F.String())
    logged_at = F.String()
    confirmed_by = F.String(allow_none=True)
    confirmed_at = F.String(allow_none=True)


class ObjectiveIn(ma.Schema):
    mentee_id = F.String(load_default=None, allow_none=True)
    area = F.String(required=True, validate=validate.OneOf(OBJECTIVE_AREAS))
    title = F.String(required=True, validate=validate.Length(min=1, max=200))
    description = F.String(load_default="", validate=validate.Length(max=2000))
    due_date = DateField(load_default=None, allow_none=True)


class ObjectiveStatusIn(ma.Schema):
    status = F.String(required=True, validate=validate.OneOf(OBJECTIVE_STATUSES))
    note = F.String(load_default="", validate=validate.Length(max=2000))


class HistoryOut(ma.Schema):
    status = F.String()
    note = F.String()
    changed_by = F.String()
    changed_at = F.String()


class ObjectiveOut(ma.Schema):
    objective_id = F.String()
    pair_id = F.String()
    cycle_id = F.String()
    mentee_id = F.String()
    area = F.String()
    title = F.String()
    description = F.String()
    due_date = F.String(allow_none=True)
    status = F.String()
    set_by = F.String()
    set_at = F.String()
    updated_at = F.String()
    history = F.List(F.Nested(HistoryOut))


class ConcernIn(ma.Schema):
    kind = F.String(required=True, validate=validate.OneOf(CONCERN_KINDS))
    text = F.String(required=True, validate=validate.Length(min=1, max=5000))


class ResolveIn(ma.Schema):
    note = F.String(required=True, validate=validate.Length(min=1, max=5000))


class ConcernSummaryOut(ma.Schema):
    """What lists show: no kind, text, raiser or notes (those are read one at a time, audited)."""

    concern_id = F.String()
    cycle_id = F.String()
    status = F.String()
    raised_at = F.String()
    ack_due = F.String()
    escalated = F.Boolean()
    escalation_reason = F.String(allow_none=True)


class ConcernOut(ConcernSummaryOut):
    pair_id = F.String()
    raised_by = F.String()
    raiser_role = F.String()
    kind = F.String()
    text = F.String()
    acknowledged_by = F.String(allow_none=True)
    acknowledged_at = F.String(allow_none=True)
    escalated_at = F.String(allow_none=True)
    resolved_by = F.String(allow_none=True)
    resolved_at = F.String(allow_none=True)
    resolution_note = F.String(allow_none=True)
    viewed_as = F.String()


class ConcernQuery(ma.Schema):
    cycle_id = F.String(load_default=None)
    status = F.String(
        load_default=None, validate=validate.OneOf(("raised", "acknowledged", "resolved"))
    )


class AccessOut(ma.Schema):
    viewer_id = F.String()
    viewer_role = F.String()
    viewed_at = F.String()


class HealthQuery(ma.Schema):
    inactive_days = F.Integer(load_default=30, validate=validate.Range(min=1, max=365))


class RelationshipOut(ma.Schema):
    pair_id = F.String(attribute="id")
    cycle_id = F.String()
    kind = F.String()
    members = F.Dict(keys=F.String(), values=F.String())
    names = F.Dict(keys=F.String(), values=F.String(allow_none=True))
    active = F.Boolean()
    started_on = F.Date()


class OutcomesQuery(ma.Schema):
    institution_id = F.String(load_default=None)


# --- surveys ------------------------------------------------------------------------------------


class SurveyItemIn(ma.Schema):
    item_id = F.String(
        load_default=None,
        validate=[validate.Length(min=1, max=40), validate.Regexp(r"^[A-Za-z0-9_.-]+$")],
    )
    kind = F.String(required=True, validate=validate.OneOf(SURVEY_ITEM_KINDS))
    prompt = F.String(required=True, validate=validate.Length(min=1, max=500))
    required = F.Boolean(load_default=True)
    labels = F.List(F.String(validate=validate.Length(min=1, max=100)), load_default=list)
    options = F.List(
        F.String(validate=validate.Length(min=1, max=200)),
        load_default=list,
        validate=validate.Length(max=20),
    )
    max_length = F.Integer(
        load_default=None, allow_none=True, validate=validate.Range(1, TEXT_MAX_LENGTH)
    )

    @ma.validates_schema
    def _fits_kind(self, data, **kwargs):
        broken = item_shape_error(
            data.get("kind"), data.get("labels") or [], data.get("options") or [],
            data.get("max_length"),
        )  # fmt: skip
        if broken:
            field, message = broken
            raise ma.ValidationError(message, field)


class TemplateIn(ma.Schema):
    name = F.String(required=True, validate=validate.Length(min=1, max=200))
    description = F.String(load_default="", validate=validate.Length(max=2000))
    items = F.List(F.Nested(SurveyItemIn), required=True, validate=validate.Length(min=1, max=50))


class SeedIn(ma.Schema):
    builtins = F.List(
        F.String(validate=validate.OneOf(tuple(BUILTIN_TEMPLATES))), load_default=None
    )


class ItemOut(ma.Schema):
    item_id = F.String()
    kind = F.String()
    prompt = F.String()
    required = F.Boolean()
    labels = F.List(F.String())
    options = F.List(F.String())
    max_length = F.Integer(allow_none=True)


class TemplateOut(ma.Schema):
    template_id = F.String()
    institution_id = F.String()
    name = F.String()
    description = F.String()
    builtin = F.String(allow_none=True)
    items = F.List(F.Nested(ItemOut))
    defined_by = F.String()
    defined_at = F.String()


class BuiltinOut(ma.Schema):
    builtin = F.String()
    name = F.String()
    description = F.String()
    months = F.List(F.Integer())
    items = F.List(F.Nested(ItemOut))


class ScheduleIn(ma.Schema):
    template_id = F.String(required=True)
    months = F.List(
        F.Integer(validate=validate.Range(min=0, max=60)),
        load_default=None,
        validate=validate.Length(min=1, max=24),
    )
    days_to_answer = F.Integer(
        load_default=DAYS_TO_ANSWER, validate=validate.Range(min=1, max=MAX_DAYS_TO_ANSWER)
    )


class InstanceOut(ma.Schema):
    instance_id = F.String()
    month = F.Integer()
    due_on = F.String()
    issued_at = F.String()
    recipients = F.Integer()


class ScheduleOut(ma.Schema):
    schedule_id = F.String()
    template_id = F.String()
    cycle_id = F.String()
    months = F.List(F.Integer())
    days_to_answer = F.Integer()
    scheduled_by = F.String()
    scheduled_at = F.String()
    instances = F.List(F.Nested(InstanceOut))


class AnswersIn(ma.Schema):
    answers = F.Dict(keys=F.String(), values=F.Raw(allow_none=True), required=True)


class RevisionOut(ma.Schema):
    revision = F.Integer()
    answers = F.Dict()
    answered_at = F.String()


class ResponseOut(ma.Schema):
    instance_id = F.String()
    person_id = F.String()
    revision = F.Integer()
    answers = F.Dict()
    first_answered_at = F.String()
    answered_at = F.String()
    history = F.List(F.Nested(RevisionOut))


class MySurveyOut(ma.Schema):
    instance_id = F.String()
    cycle_id = F.String()
    pair_id = F.String()
    template = F.String()
    description = F.String()
    month = F.Integer()
    due_on = F.String()
    issued_at = F.String()
    status = F.String()  # open (not answered yet) | answered (may still be edited)
    items = F.List(F.Nested(ItemOut))
    response = F.Nested(ResponseOut, allow_none=True)
