"""Surveys: templates, schedules, issued instances with their recipients, and each person's
response with every revision (feedback's own events); and the lookups of them. Nobody reads
individual responses through the API but the person who gave them: health takes aggregates."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope, Projection
from services.eventkit.db import one
from services.eventkit.envelope import format_time

from .roster import cycles
from .schema import metadata, replace

survey_templates = sa.Table(
    "survey_templates", metadata,
    sa.Column("template_id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("builtin", sa.String(40), nullable=True),
    sa.Column("items", sa.JSON, nullable=False),
    sa.Column("defined_by", sa.String(36), nullable=False),
    sa.Column("defined_at", sa.String(40), nullable=False),
)  # fmt: skip
survey_schedules = sa.Table(
    "survey_schedules", metadata,
    sa.Column("schedule_id", sa.String(36), primary_key=True),
    sa.Column("template_id", sa.String(36), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("months", sa.JSON, nullable=False),
    sa.Column("days_to_answer", sa.Integer, nullable=False, server_default="14"),
    sa.Column("scheduled_by", sa.String(36), nullable=False),
    sa.Column("scheduled_at", sa.String(40), nullable=False),
    sa.UniqueConstraint("cycle_id", "template_id", name="uq_survey_schedules_cycle_template"),
)  # fmt: skip
survey_instances = sa.Table(
    "survey_instances", metadata,
    sa.Column("instance_id", sa.String(36), primary_key=True),
    sa.Column("schedule_id", sa.String(36), nullable=False),
    sa.Column("template_id", sa.String(36), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("month", sa.Integer, nullable=False),
    sa.Column("due_on", sa.String(10), nullable=False),
    sa.Column("issued_at", sa.String(40), nullable=False),
    sa.Column("issued_by", sa.String(36), nullable=True),  # issued now by a coordinator
    sa.Column("audience", sa.String(10), nullable=True),
    sa.UniqueConstraint("schedule_id", "month", name="uq_survey_instances_schedule_month"),
)  # fmt: skip
survey_recipients = sa.Table(
    "survey_recipients", metadata,
    sa.Column("instance_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), primary_key=True, index=True),
    sa.Column("pair_id", sa.String(36), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
)  # fmt: skip
survey_responses = sa.Table(
    "survey_responses", metadata,
    sa.Column("instance_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("first_answered_at", sa.String(40), nullable=False),
    sa.Column("answered_at", sa.String(40), nullable=False),
)  # fmt: skip
survey_response_history = sa.Table(
    "survey_response_history", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("instance_id", sa.String(36), nullable=False, index=True),
    sa.Column("person_id", sa.String(36), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("answered_at", sa.String(40), nullable=False),
    sa.UniqueConstraint(
        "instance_id", "person_id", "revision", name="uq_survey_response_history_revision"
    ),
)  # fmt: skip

survey_view = Projection(
    "survey_view",
    tables=[
        survey_templates, survey_schedules, survey_instances, survey_recipients,
        survey_responses, survey_response_history,
    ],
)  # fmt: skip


@survey_view.on("SurveyTemplateDefined")
def _template(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(survey_templates.insert().values(
        template_id=p["template_id"], institution_id=p["institution_id"], name=p["name"],
        description=p.get("description") or "", builtin=p.get("builtin"), items=p["items"],
        defined_by=p["defined_by"], defined_at=format_time(e.occurred_at),
    ))  # fmt: skip


@survey_view.on("SurveyScheduled")
def _scheduled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(survey_schedules.insert().values(
        schedule_id=p["schedule_id"], template_id=p["template_id"], cycle_id=p["cycle_id"],
        institution_id=e.institution_id, months=p["months"], days_to_answer=p["days_to_answer"],
        scheduled_by=p["scheduled_by"], scheduled_at=format_time(e.occurred_at),
    ))  # fmt: skip


@survey_view.on("SurveyIssued")
def _issued(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(survey_instances.insert().values(
        instance_id=p["instance_id"], schedule_id=p["schedule_id"], template_id=p["template_id"],
        cycle_id=p["cycle_id"], institution_id=e.institution_id, month=p["month"],
        due_on=p["due_on"], issued_at=format_time(e.occurred_at),
        issued_by=p.get("issued_by"), audience=p.get("audience"),
    ))  # fmt: skip
    if p["recipients"]:
        conn.execute(
            survey_recipients.insert(),
            [
                {"instance_id": p["instance_id"], "person_id": r["person_id"],
                 "pair_id": r["pair_id"], "role": r["role"]}
                for r in p["recipients"]
            ],
        )  # fmt: skip


@survey_view.on("SurveyAnswered")
def _answered(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    at = format_time(e.occurred_at)
    key = sa.and_(
        survey_responses.c.instance_id == p["instance_id"],
        survey_responses.c.person_id == p["person_id"],
    )
    first = conn.execute(sa.select(survey_responses.c.first_answered_at).where(key)).scalar()
    replace(
        conn, survey_responses, key, instance_id=p["instance_id"], person_id=p["person_id"],
        revision=p["revision"], answers=p["answers"], first_answered_at=first or at,
        answered_at=at,
    )  # fmt: skip
    conn.execute(survey_response_history.insert().values(
        event_id=e.event_id, instance_id=p["instance_id"], person_id=p["person_id"],
        revision=p["revision"], answers=p["answers"], answered_at=at,
    ))  # fmt: skip


# --- lookups ------------------------------------------------------------------------------------


def template(conn: sa.Connection, template_id: str) -> sa.RowMapping:
    return one(conn, survey_templates, "survey template", template_id=template_id)


def template_or_none(conn: sa.Connection, template_id: str) -> sa.RowMapping | None:
    t = survey_templates
    return conn.execute(sa.select(t).where(t.c.template_id == template_id)).mappings().first()


def templates_of(conn: sa.Connection, institution_id: str) -> list[sa.RowMapping]:
    t = survey_templates
    query = sa.select(t).where(t.c.institution_id == institution_id).order_by(t.c.defined_at)
    return list(conn.execute(query).mappings().all())


def _recipient_counts() -> Any:
    r = survey_recipients
    return (
        sa.select(r.c.instance_id, sa.func.count().label("n")).group_by(r.c.instance_id).subquery()
    )


def schedules(
    conn: sa.Connection, cycle_id: str, schedule_id: str | None = None
) -> list[dict[str, Any]]:
    """The cycle's schedules (or the one named), each with its instances and their recipients."""
    s, i = survey_schedules, survey_instances
    query = sa.select(s).where(s.c.cycle_id == cycle_id).order_by(s.c.scheduled_at)
    if schedule_id:
        query = query.where(s.c.schedule_id == schedule_id)
    out = []
    for row in conn.execute(query).mappings().all():
        counts = _recipient_counts()
        instances = conn.execute(
            sa.select(i, sa.func.coalesce(counts.c.n, 0).label("recipients"))
            .outerjoin(counts, counts.c.instance_id == i.c.instance_id)
            .where(i.c.schedule_id == row["schedule_id"])
            .order_by(i.c.month)
        ).mappings()
        out.append({**row, "instances": list(instances)})
    return out


def schedules_to_issue(conn: sa.Connection) -> list[sa.RowMapping]:
    """Every schedule with when its cycle opened (oldest schedule first)."""
    s, c = survey_schedules, cycles
    return list(
        conn.execute(
            sa.select(s, c.c.opened_at, c.c.institution_id.label("cycle_institution"))
            .join(c, c.c.id == s.c.cycle_id)
            .order_by(s.c.scheduled_at)
        ).mappings()
    )


def issued_ids(conn: sa.Connection) -> set[str]:
    return set(conn.execute(sa.select(survey_instances.c.instance_id)).scalars())


def instance(conn: sa.Connection, instance_id: str) -> sa.RowMapping:
    i = survey_instances
    return conn.execute(sa.select(i).where(i.c.instance_id == instance_id)).mappings().one()


def with_recipient_count(conn: sa.Connection, instance_id: str) -> dict[str, Any]:
    r = survey_recipients
    n = conn.execute(
        sa.select(sa.func.count()).select_from(r).where(r.c.instance_id == instance_id)
    ).scalar_one()
    return {**instance(conn, instance_id), "recipients": n}


def instances_of(conn: sa.Connection, cycle_id: str) -> list[dict[str, Any]]:
    """The cycle's issued surveys, newest first, each with its template's name and how many it
    was issued to and answered it."""
    i, t, s = survey_instances, survey_templates, survey_responses
    counts = _recipient_counts()
    answered = (
        sa.select(s.c.instance_id, sa.func.count().label("n")).group_by(s.c.instance_id).subquery()
    )
    rows = conn.execute(
        sa.select(
            i,
            t.c.name.label("template"),
            sa.func.coalesce(counts.c.n, 0).label("recipients"),
            sa.func.coalesce(answered.c.n, 0).label("responded"),
        )
        .join(t, t.c.template_id == i.c.template_id)
        .outerjoin(counts, counts.c.instance_id == i.c.instance_id)
        .outerjoin(answered, answered.c.instance_id == i.c.instance_id)
        .where(i.c.cycle_id == cycle_id)
        .order_by(i.c.issued_at.desc())
    ).mappings()
    return [dict(x) for x in rows]


def results_inputs(
    conn: sa.Connection, instance_id: str
) -> tuple[sa.RowMapping, sa.RowMapping, set[str], list[dict[str, Any]]]:
    """What an instance's results take: the instance, its template, whom it was issued to and
    each one's latest answers."""
    found = instance(conn, instance_id)
    s = survey_responses
    responses = [
        {"person_id": x.person_id, "answers": x.answers}
        for x in conn.execute(sa.select(s).where(s.c.instance_id == instance_id))
    ]
    issued = recipients(conn, [instance_id]).get(instance_id, set())
    return found, template(conn, found["template_id"]), issued, responses


def recipients(conn: sa.Connection, instance_ids: Iterable[str]) -> dict[str, set[str]]:
    """Whom each instance was issued to."""
    r = survey_recipients
    out: dict[str, set[str]] = {}
    ids = set(instance_ids)
    if ids:
        for x in conn.execute(sa.select(r).where(r.c.instance_id.in_(ids))):
            out.setdefault(x.instance_id, set()).add(x.person_id)
    return out


def issued_to(conn: sa.Connection, person_id: str) -> list[sa.RowMapping]:
    """The instances issued to the person with their template's items, by due date."""
    i, r, t = survey_instances, survey_recipients, survey_templates
    return list(
        conn.execute(
            sa.select(i, r.c.pair_id, t.c.name.label("template"), t.c.description, t.c["items"])
            .join(r, r.c.instance_id == i.c.instance_id)
            .join(t, t.c.template_id == i.c.template_id)
            .where(r.c.person_id == person_id)
            .order_by(i.c.due_on)
        ).mappings()
    )


def response(conn: sa.Connection, instance_id: str, person_id: str) -> dict[str, Any] | None:
    """The person's response with every revision, or None."""
    r, h = survey_responses, survey_response_history
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


def health_inputs(conn: sa.Connection, cycle_id: str) -> tuple[list, dict, list]:
    """What survey_health takes for a cycle: its instances (with recipients), their templates and
    the latest response of each person."""
    i, t, s = survey_instances, survey_templates, survey_responses
    found = conn.execute(sa.select(i).where(i.c.cycle_id == cycle_id).order_by(i.c.due_on))
    instances = [dict(x) for x in found.mappings()]
    if not instances:
        return [], {}, []
    ids = [x["instance_id"] for x in instances]
    issued = recipients(conn, ids)
    for x in instances:
        x["recipients"] = sorted(issued.get(x["instance_id"], ()))
    templates = {
        x["template_id"]: {"name": x["name"], "items": x["items"]}
        for x in conn.execute(
            sa.select(t).where(t.c.template_id.in_({x["template_id"] for x in instances}))
        ).mappings()
    }
    responses = [
        {"instance_id": x.instance_id, "person_id": x.person_id, "answers": x.answers}
        for x in conn.execute(sa.select(s).where(s.c.instance_id.in_(ids)))
    ]
    return instances, templates, responses


def likert_answers(conn: sa.Connection, cycle_id: str) -> tuple[set, list[tuple[str, str, list]]]:
    """For consortium outcomes: every (instance, person) a cycle's surveys were issued to, and
    each response as (instance, person, its Likert answers)."""
    i, r, s, t = survey_instances, survey_recipients, survey_responses, survey_templates
    found = conn.execute(
        sa.select(i.c.instance_id, t.c["items"])
        .join(t, t.c.template_id == i.c.template_id)
        .where(i.c.cycle_id == cycle_id)
    ).all()
    likert_items = {
        x.instance_id: [item["item_id"] for item in x.items if item["kind"] == "likert"]
        for x in found
    }
    if not likert_items:
        return set(), []
    ids = list(likert_items)
    issued = {
        (x.instance_id, x.person_id)
        for x in conn.execute(sa.select(r).where(r.c.instance_id.in_(ids)))
    }
    answered = [
        (x.instance_id, x.person_id, [x.answers.get(k) for k in likert_items[x.instance_id]])
        for x in conn.execute(sa.select(s).where(s.c.instance_id.in_(ids)))
    ]
    return issued, answered
