"""What feedback's API takes and answers about surveys: templates and their items (checked
against the shared item rules of `eventkit.contracts.surveys`), schedules, instances and
responses (marshmallow schemas; the OpenAPI is built from them)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from services.eventkit.contracts.feedback import (
    DAYS_TO_ANSWER,
    MAX_DAYS_TO_ANSWER,
    SURVEY_AUDIENCES,
)
from services.eventkit.contracts.surveys import SURVEY_ITEM_KINDS, TEXT_MAX_LENGTH, item_shape_error

from ..domain.builtin_surveys import BUILTIN_TEMPLATES

F = ma.fields


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
    # A free-text item whose answers the coordinators may read (de-identified, 5 or more).
    shared = F.Boolean(load_default=False)

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
    shared = F.Boolean(load_default=False, dump_default=False)


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


class IssueNowIn(ma.Schema):
    """A template issued now: to the whole cycle, to chosen pairs and groups (their ids), or to
    those at risk (no meeting in `inactive_days`, as program health counts them)."""

    template_id = F.String(required=True)
    audience = F.String(load_default="cycle", validate=validate.OneOf(SURVEY_AUDIENCES))
    relationship_ids = F.List(F.String(), load_default=list, validate=validate.Length(max=500))
    days_to_answer = F.Integer(
        load_default=DAYS_TO_ANSWER, validate=validate.Range(min=1, max=MAX_DAYS_TO_ANSWER)
    )
    inactive_days = F.Integer(load_default=30, validate=validate.Range(min=1, max=365))


class IssuedOut(ma.Schema):
    instance_id = F.String()
    cycle_id = F.String()
    template_id = F.String()
    template = F.String()
    month = F.Integer()
    due_on = F.String()
    issued_at = F.String()
    issued_by = F.String(allow_none=True)  # None: issued by its schedule
    audience = F.String(allow_none=True)
    recipients = F.Integer()
    responded = F.Integer()


class ItemResultOut(ma.Schema):
    item_id = F.String()
    kind = F.String()
    prompt = F.String()
    shared = F.Boolean(allow_none=True)
    # suppressed, or: responses, and distribution (Likert), counts (choice) or texts (shared text)
    result = F.Dict()


class ResultsOut(ma.Schema):
    instance_id = F.String()
    cycle_id = F.String()
    template_id = F.String()
    template = F.String()
    month = F.Integer()
    issued_at = F.String()
    due_on = F.String()
    audience = F.String(allow_none=True)
    response_rate = F.Dict()
    items = F.List(F.Nested(ItemResultOut))
