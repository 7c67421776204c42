"""Surveys: coordinators define an institution's templates (or copy the ready-made set) and
schedule them for their program's cycles; each instance is issued once, when its month comes, to
the members of the cycle's active pairs and groups, and only they answer it (edits are revisions).
Nobody reads individual responses through the API, only the suppressed aggregates in health."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import NotFound
from services.eventkit.access import consortium, guard
from services.eventkit.db import one
from services.eventkit.http import principal, request_meta, runtime

from .. import access
from .. import readmodels as rm
from ..app import surveys
from ..app.survey_issuing import issue_due
from ..domain.builtin_surveys import BUILTIN_TEMPLATES
from ..domain.surveys import normalize_items
from .context import clock, work
from .schemas import (
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


def _template(conn: sa.Connection, template_id: str) -> sa.RowMapping:
    return one(conn, rm.survey_templates, "survey template", template_id=template_id)


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
        return _template(uow.conn, template_id)


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
        return [_template(conn, template_id) for template_id in seeded]


@blp.route("/institutions/<institution_id>/survey-templates", methods=["GET"])
@guard("survey.templates", access.institution)
@blp.response(200, TemplateOut(many=True))
def list_templates(institution_id):
    t = rm.survey_templates
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(t).where(t.c.institution_id == institution_id).order_by(t.c.defined_at)
            )
            .mappings()
            .all()
        )


@blp.route("/survey-templates/<template_id>", methods=["GET"])
@guard("survey.template", access.template)
@blp.response(200, TemplateOut)
def get_template(template_id):
    with runtime().reading() as conn:
        return _template(conn, template_id)


def _schedules(conn: sa.Connection, cycle_id: str, schedule_id: str | None = None) -> list[dict]:
    s, i, r = rm.survey_schedules, rm.survey_instances, rm.survey_recipients
    query = sa.select(s).where(s.c.cycle_id == cycle_id).order_by(s.c.scheduled_at)
    if schedule_id:
        query = query.where(s.c.schedule_id == schedule_id)
    out = []
    for row in conn.execute(query).mappings().all():
        counts = (
            sa.select(r.c.instance_id, sa.func.count().label("n"))
            .group_by(r.c.instance_id)
            .subquery()
        )
        instances = conn.execute(
            sa.select(i, sa.func.coalesce(counts.c.n, 0).label("recipients"))
            .outerjoin(counts, counts.c.instance_id == i.c.instance_id)
            .where(i.c.schedule_id == row["schedule_id"])
            .order_by(i.c.month)
        ).mappings()
        out.append({**row, "instances": list(instances)})
    return out


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
        return _schedules(uow.conn, cycle_id, schedule_id)[0]


@blp.route("/cycles/<cycle_id>/survey-schedules", methods=["GET"])
@guard("cycle.surveys", access.cycle)
@blp.response(200, ScheduleOut(many=True))
def list_schedules(cycle_id):
    with runtime().reading() as conn:
        return _schedules(conn, cycle_id)


@blp.route("/surveys/issue-due", methods=["POST"])
@guard("consortium.operate", consortium)
@blp.response(200, InstanceOut(many=True))
def issue_due_surveys():
    """Issue now every survey whose month has come (the worker also does this every minute); each
    instance is issued once, whoever asks and however often. The consortium-wide admin or system."""
    rt = runtime()
    issued = issue_due(rt, clock())
    i, r = rm.survey_instances, rm.survey_recipients
    with rt.reading() as conn:
        out = []
        for iid in issued:
            row = conn.execute(sa.select(i).where(i.c.instance_id == iid)).mappings().one()
            n = conn.execute(
                sa.select(sa.func.count()).select_from(r).where(r.c.instance_id == iid)
            ).scalar_one()
            out.append({**row, "recipients": n})
        return out


def _response(conn: sa.Connection, instance_id: str, person_id: str) -> dict | None:
    r, h = rm.survey_responses, rm.survey_response_history
    row = (
        conn.execute(sa.select(r).where(r.c.instance_id == instance_id, r.c.person_id == person_id))
        .mappings()
        .first()
    )
    if row is None:
        return None
    history = conn.execute(
        sa.select(h)
        .where(h.c.instance_id == instance_id, h.c.person_id == person_id)
        .order_by(h.c.revision)
    ).mappings()
    return {**row, "history": list(history)}


@blp.route("/me/surveys", methods=["GET"])
@guard("own.read", rows="survey.answer")
@blp.response(200, MySurveyOut(many=True))
def my_surveys():
    """Survey instances issued to the caller, with their items and the caller's answers so far."""
    me = principal().user_id
    i, r, t = rm.survey_instances, rm.survey_recipients, rm.survey_templates
    with runtime().reading() as conn:
        rows = conn.execute(
            sa.select(i, r.c.pair_id, t.c.name.label("template"), t.c.description, t.c["items"])
            .join(r, r.c.instance_id == i.c.instance_id)
            .join(t, t.c.template_id == i.c.template_id)
            .where(r.c.person_id == me)
            .order_by(i.c.due_on)
        ).mappings()
        out = []
        for row in access.visible_instances(conn, rows.all()):
            response = _response(conn, row["instance_id"], me)
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
        body = _response(uow.conn, instance_id, me)
    return body, 201 if body["revision"] == 1 else 200


@blp.route("/survey-instances/<instance_id>/responses/me", methods=["GET"])
@guard("survey.answer", access.survey_instance)
@blp.response(200, ResponseOut)
def my_response(instance_id):
    with runtime().reading() as conn:
        found = _response(conn, instance_id, principal().user_id)
    if found is None:
        raise NotFound("You have not answered this survey.")
    return found
