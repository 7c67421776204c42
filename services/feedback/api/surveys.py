"""Surveys: coordinators define an institution's templates (or copy the ready-made set) and
schedule them for their program's cycles; each instance is issued once, when its month comes, to
the members of the cycle's active pairs and groups, and only they answer it (edits are revisions).
Nobody reads individual responses through the API, only the suppressed aggregates in health."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import ConcurrencyError, DomainError, NotFound
from services.eventkit.access import consortium, guard
from services.eventkit.db import one
from services.eventkit.envelope import new_id
from services.eventkit.http import principal, request_meta, runtime

from .. import access, relationships
from .. import readmodels as rm
from .. import surveys as issuing
from ..domain.builtin_surveys import BUILTIN_TEMPLATES
from ..domain.surveys import (
    SurveyResponse,
    SurveySchedule,
    SurveyTemplate,
    answer_errors,
    normalize_items,
    stable_id,
)
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
    rt = runtime()
    with rt.engine.begin() as conn:
        template = SurveyTemplate(new_id())
        template.define(institution_id, by=principal().user_id, **data)
        rt.save(conn, template, request_meta(institution_id))
        return _template(conn, template.id)


@blp.route("/institutions/<institution_id>/survey-templates/builtins", methods=["POST"])
@guard("survey.templates", access.institution)
@blp.arguments(SeedIn)
@blp.response(200, TemplateOut(many=True))
def seed_templates(data, institution_id):
    """Copy the ready-made templates (all, or those named) into the institution; seeding twice
    changes nothing (each copy's id is stable per institution)."""
    rt = runtime()
    out = []
    for key in data["builtins"] or list(BUILTIN_TEMPLATES):
        spec = BUILTIN_TEMPLATES[key]
        template_id = stable_id("survey-template", institution_id, key)
        try:
            with rt.engine.begin() as conn:
                template = rt.load(conn, SurveyTemplate, template_id)
                if not template.exists:
                    template.define(
                        institution_id, spec["name"], spec["items"], principal().user_id,
                        spec["description"], builtin=key,
                    )  # fmt: skip
                    rt.save(conn, template, request_meta(institution_id))
        except ConcurrencyError:
            pass  # seeded by someone else meanwhile
        with rt.reading() as conn:
            out.append(_template(conn, template_id))
    return out


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
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = relationships.cycle(conn, cycle_id)
        t = rm.survey_templates
        template = (
            conn.execute(sa.select(t).where(t.c.template_id == data["template_id"]))
            .mappings()
            .first()
        )
        if template is None or template["institution_id"] != cycle["institution_id"]:
            raise DomainError("No such template in this cycle's institution.", "template_id")
        months = data["months"] if data["months"] is not None else cycle["review_months"]
        schedule_id = stable_id("survey-schedule", cycle_id, template["template_id"])
        schedule = rt.load(conn, SurveySchedule, schedule_id)
        schedule.schedule(
            template["template_id"], cycle_id, months, principal().user_id, data["days_to_answer"]
        )
        rt.save(conn, schedule, request_meta(cycle["institution_id"]))
        return _schedules(conn, cycle_id, schedule.id)[0]


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
    issued = issuing.issue_due(rt)
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
    rt = runtime()
    i, r = rm.survey_instances, rm.survey_recipients
    with rt.engine.begin() as conn:
        instance = conn.execute(sa.select(i).where(i.c.instance_id == instance_id)).mappings().one()
        recipients = {
            x.person_id
            for x in conn.execute(sa.select(r.c.person_id).where(r.c.instance_id == instance_id))
        }
        items = _template(conn, instance["template_id"])["items"]
        errors = answer_errors(items, data["answers"])
        if errors:
            raise ma.ValidationError({"answers": {k: [v] for k, v in errors.items()}})
        response = rt.load(conn, SurveyResponse, stable_id("survey-response", instance_id, me))
        response.answer(instance_id, me, recipients, items, data["answers"])
        rt.save(conn, response, request_meta(instance["institution_id"]))
        body = _response(conn, instance_id, me)
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
