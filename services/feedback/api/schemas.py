"""What feedback's API takes and answers about pairs, meetings, objectives, concerns and health
(marshmallow schemas; the OpenAPI is built from them). Surveys' are in `survey_schemas`."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from services.eventkit.contracts.feedback import (
    CONCERN_ACTIONS,
    CONCERN_KINDS,
    MEETING_MODES,
    OBJECTIVE_AREAS,
    OBJECTIVE_STATUSES,
    STEP_STATUSES,
)

F = ma.fields
DateField = F.Date  # ISO dates in and out


def _texts(max_items: int, max_length: int):
    return F.List(
        F.String(validate=validate.Length(max=max_length)),
        load_default=list,
        validate=validate.Length(max=max_items),
    )


class MeetingIn(ma.Schema):
    date = DateField(required=True)
    duration_minutes = F.Integer(required=True, validate=validate.Range(min=5, max=600))
    mode = F.String(required=True, validate=validate.OneOf(MEETING_MODES))
    topics = _texts(20, 100)
    notes = F.String(load_default="", validate=validate.Length(max=5000))
    objectives = _texts(20, 500)
    action_items = _texts(20, 500)
    attendees = F.List(F.String(), load_default=list)
    objective_ids = F.List(F.String(), load_default=list, validate=validate.Length(max=20))


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
    objective_ids = F.List(F.String())
    logged_at = F.String()
    confirmed_by = F.String(allow_none=True)
    confirmed_at = F.String(allow_none=True)


class ObjectiveIn(ma.Schema):
    mentee_id = F.String(load_default=None, allow_none=True)
    area = F.String(required=True, validate=validate.OneOf(OBJECTIVE_AREAS))
    title = F.String(required=True, validate=validate.Length(min=1, max=200))
    description = F.String(load_default="", validate=validate.Length(max=2000))
    due_date = DateField(load_default=None, allow_none=True)


class ObjectiveEditIn(ma.Schema):
    area = F.String(required=True, validate=validate.OneOf(OBJECTIVE_AREAS))
    title = F.String(required=True, validate=validate.Length(min=1, max=200))
    description = F.String(load_default="", validate=validate.Length(max=2000))
    due_date = DateField(load_default=None, allow_none=True)


class StepIn(ma.Schema):
    step_id = F.String(load_default=None, allow_none=True)  # none: a new step
    text = F.String(required=True, validate=validate.Length(min=1, max=500))
    due_date = DateField(load_default=None, allow_none=True)
    status = F.String(load_default="not_started", validate=validate.OneOf(STEP_STATUSES))


class CommentIn(ma.Schema):
    text = F.String(required=True, validate=validate.Length(min=1, max=2000))


class MoveIn(ma.Schema):
    offset = F.Integer(required=True, validate=validate.OneOf((-1, 1)))


class ObjectiveStatusIn(ma.Schema):
    status = F.String(required=True, validate=validate.OneOf(OBJECTIVE_STATUSES))
    note = F.String(load_default="", validate=validate.Length(max=2000))


class HistoryOut(ma.Schema):
    kind = F.String()  # set, status, edited, step, comment or agreed
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
    position = F.Integer()
    steps = F.List(F.Nested(lambda: StepFields()))
    agreed_by = F.String(allow_none=True)
    agreed_at = F.String(allow_none=True)
    history = F.List(F.Nested(HistoryOut))


class StepFields(ma.Schema):
    step_id = F.String()
    text = F.String()
    due_date = F.String(allow_none=True)
    status = F.String()


class StepOut(ma.Schema):
    step_id = F.String()
    objective = F.Nested(ObjectiveOut)


class ConcernIn(ma.Schema):
    kind = F.String(required=True, validate=validate.OneOf(CONCERN_KINDS))
    text = F.String(required=True, validate=validate.Length(min=1, max=5000))
    # The member of the pair or group the concern is about (the other member, or the raiser).
    about_id = F.String(load_default=None, allow_none=True)


class FollowUpIn(ma.Schema):
    action = F.String(required=True, validate=validate.OneOf(CONCERN_ACTIONS))
    note = F.String(load_default="", validate=validate.Length(max=5000))


class ConcernActionOut(ma.Schema):
    action = F.String()
    note = F.String()
    taken_by = F.String()
    taken_at = F.String()


class ConcernRelationshipOut(ma.Schema):
    pair_id = F.String()
    kind = F.String()  # pair | group | family
    members = F.Dict(keys=F.String(), values=F.String())  # person id -> mentor | mentee
    titles = F.Dict(keys=F.String(), values=F.String())  # coach, senior, mid, junior...


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
    about_id = F.String(allow_none=True)
    relationship = F.Nested(ConcernRelationshipOut)
    actions = F.List(F.Nested(ConcernActionOut))


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
    titles = F.Dict(keys=F.String(), values=F.String())  # coach, senior, mid, junior...
    names = F.Dict(keys=F.String(), values=F.String(allow_none=True))
    active = F.Boolean()
    started_on = F.Date()


class OutcomesQuery(ma.Schema):
    institution_id = F.String(load_default=None)
