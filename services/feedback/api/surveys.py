"""Surveys: coordinators define an institution's templates (or copy the ready-made set) and
schedule them for their program's cycles; each instance is issued once, when its month comes, to
the members of the cycle's active pairs and groups, and only they answer it (edits are revisions).
Nobody reads individual responses through the API, only the suppressed aggregates in health."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from services.eventkit import NotFound
from services.eventkit.access import consortium, guard
from services.eventkit.http import principal, request_meta, runtime

from ..app import surveys
from ..app.survey_issuing import issue_due
from ..domain.builtin_surveys import BUILTIN_TEMPLATES
from ..domain.surveys import normalize_items
from ..readmodels import surveys as issued
from . import access
from .context import clock, work
from .survey_schemas import (
    AnswersIn,
    BuiltinOut,
    InstanceOut,
    MySurveyOut,
    ResponseOut,
    ScheduleIn,
    ScheduleOut,
    SeedIn,
    TemplateIn,
    TemplateOut,
)

blp = Blueprint("surveys", __name__, url_prefix="/api", description="Surveys")


@blp.route("/survey-templates/builtins", methods=["GET"])
@guard("own.read", consortium)
@blp.response(200, BuiltinOut(many=True))
def builtin_templates():
    """The ready-made templates (seed them into an institution to schedule them)."""
    return [
        {**spec, "builtin": key, "items": normalize_items(spec["items"])}
        for key, spec in BUILTIN_TEMPLATES.items()
    ]


@blp.route("/institutions/<institution_id>/survey-templates", methods=["POST"])
@guard("survey.templates", access.institution)
@blp.arguments(TemplateIn)
@blp.response(201, TemplateOut)
def define_template(data, institution_id):
    """A coordinator defines a template: Likert (1-5, labelled), single-choice and text items."""
    with work() as uow:
        template_id = surveys.define_template(uow, institution_id, principal().user_id, **data)
        return issued.template(uow.conn, template_id)


@blp.route("/institutions/<institution_id>/survey-templates/builtins", methods=["POST"])
@guard("survey.templates", access.institution)
@blp.arguments(SeedIn)
@blp.response(200, TemplateOut(many=True))
def seed_templates(data, institution_id):
    """Copy the ready-made templates (all, or those named) into the institution; seeding twice
    changes nothing (each copy's id is stable per institution)."""
    seeded = surveys.seed_templates(
        runtime(), institution_id, principal().user_id, data["builtins"] or list(BUILTIN_TEMPLATES),
        request_meta,
    )  # fmt: skip
    with runtime().reading() as conn:
        return [issued.template(conn, template_id) for template_id in seeded]


@blp.route("/institutions/<institution_id>/survey-templates", methods=["GET"])
@guard("survey.templates", access.institution)
@blp.response(200, TemplateOut(many=True))
def list_templates(institution_id):
    with runtime().reading() as conn:
        return issued.templates_of(conn, institution_id)


@blp.route("/survey-templates/<template_id>", methods=["GET"])
@guard("survey.template", access.template)
@blp.response(200, TemplateOut)
def get_template(template_id):
    with runtime().reading() as conn:
        return issued.template(conn, template_id)


@blp.route("/cycles/<cycle_id>/survey-schedules", methods=["POST"])
@guard("cycle.surveys", access.cycle)
@blp.arguments(ScheduleIn)
@blp.response(201, ScheduleOut)
def schedule_survey(data, cycle_id):
    """Schedule one of the institution's templates for a cycle at these months of it (default:
    the cycle's review months), each issue to be answered within `days_to_answer` days (default
    14). A template is scheduled once per cycle."""
    with work() as uow:
        schedule_id = surveys.schedule(
            uow, cycle_id, data["template_id"], data["months"], data["days_to_answer"],
            principal().user_id,
        )  # fmt: skip
        return issued.schedules(uow.conn, cycle_id, schedule_id)[0]


@blp.route("/cycles/<cycle_id>/survey-schedules", methods=["GET"])
@guard("cycle.surveys", access.cycle)
@blp.response(200, ScheduleOut(many=True))
def list_schedules(cycle_id):
    with runtime().reading() as conn:
        return issued.schedules(conn, cycle_id)


@blp.route("/surveys/issue-due", methods=["POST"])
@guard("consortium.operate", consortium)
@blp.response(200, InstanceOut(many=True))
def issue_due_surveys():
    """Issue now every survey whose month has come (the worker also does this every minute); each
    instance is issued once, whoever asks and however often. The consortium-wide admin or system."""
    rt = runtime()
    done = issue_due(rt, clock())
    with rt.reading() as conn:
        return [issued.with_recipient_count(conn, instance_id) for instance_id in done]


@blp.route("/me/surveys", methods=["GET"])
@guard("own.read", rows="survey.answer")
@blp.response(200, MySurveyOut(many=True))
def my_surveys():
    """Survey instances issued to the caller, with their items and the caller's answers so far."""
    me = principal().user_id
    with runtime().reading() as conn:
        mine = access.visible_instances(conn, issued.issued_to(conn, me))
        out = []
        for row in mine:
            response = issued.response(conn, row["instance_id"], me)
            status = "answered" if response else "open"
            out.append({**row, "status": status, "response": response})
        return out


@blp.route("/survey-instances/<instance_id>/responses", methods=["POST"])
@guard("survey.answer", access.survey_instance)
@blp.arguments(AnswersIn)
@blp.response(200, ResponseOut)
def answer_survey(data, instance_id):
    """The issued person answers (201); answering again edits the response (200), as a new
    revision, every earlier one kept. Each answer is checked against its item (422 per item)."""
    me = principal().user_id
    with work() as uow:
        try:
            surveys.answer(uow, instance_id, me, data["answers"])
        except surveys.InvalidAnswers as invalid:
            raise ma.ValidationError(
                {"answers": {k: [v] for k, v in invalid.errors.items()}}
            ) from None
        body = issued.response(uow.conn, instance_id, me)
    return body, 201 if body["revision"] == 1 else 200


@blp.route("/survey-instances/<instance_id>/responses/me", methods=["GET"])
@guard("survey.answer", access.survey_instance)
@blp.response(200, ResponseOut)
def my_response(instance_id):
    with runtime().reading() as conn:
        found = issued.response(conn, instance_id, principal().user_id)
    if found is None:
        raise NotFound("You have not answered this survey.")
    return found
