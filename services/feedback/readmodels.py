"""Feedback's read models.

From other services' topics: who people are, which cycles exist and who takes part (enrollment),
who coordinates which institution (enrollment staff roles), and who is paired (pairing). Events of
different streams may arrive in any order, so each goes to its own table and they are joined when
read. From the own store: meetings, objectives with their history, concerns and their access log.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Envelope, Projection, define_kit_tables
from services.eventkit.envelope import format_time

metadata = sa.MetaData()
kit = define_kit_tables(metadata)

participants = sa.Table(
    "participants", metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="active"),
)  # fmt: skip
people = sa.Table(
    "people", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
)  # fmt: skip
cycles = sa.Table(
    "cycles", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("pairing_format", sa.String(20), nullable=False),
    sa.Column("review_months", sa.JSON, nullable=False),
    sa.Column("opened_at", sa.String(40), nullable=False),
)  # fmt: skip
staff_roles = sa.Table(
    "staff_roles", metadata,
    sa.Column("grant_key", sa.String(200), primary_key=True),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("program_id", sa.String(36), nullable=True),
)  # fmt: skip
pairs = sa.Table(
    "pairs", metadata,
    sa.Column("pair_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(10), nullable=False),  # active | ended
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("ended_at", sa.String(40), nullable=True),
)  # fmt: skip
groups = sa.Table(
    "coaching_groups", metadata,
    sa.Column("group_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("coach_id", sa.String(36), nullable=False, index=True),
    sa.Column("member_ids", sa.JSON, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)  # fmt: skip

roster = Projection(
    "roster",
    tables=[participants, people, cycles, staff_roles, pairs, groups],
    sources=["enrollment", "pairing"],
)


def _replace(conn: sa.Connection, table: sa.Table, key: sa.ColumnElement, **values) -> None:
    """Insert or overwrite one row (handlers stay correct if an event is ever applied twice)."""
    conn.execute(table.delete().where(key))
    conn.execute(table.insert().values(**values))


@roster.on("ParticipantEnrolled")
def _enrolled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _replace(
        conn, participants, participants.c.enrollment_id == p["enrollment_id"],
        enrollment_id=p["enrollment_id"], cycle_id=p["cycle_id"], program_id=p["program_id"],
        institution_id=e.institution_id, person_id=p["person_id"], role=p["role"], status="active",
    )  # fmt: skip


@roster.on("ParticipantWithdrew", "ParticipantReenrolled")
def _participation(conn: sa.Connection, e: Envelope) -> None:
    status = "withdrawn" if e.event_type == "ParticipantWithdrew" else "active"
    conn.execute(
        participants.update()
        .where(participants.c.enrollment_id == e.payload["enrollment_id"])
        .values(status=status)
    )


@roster.on("PersonRegistered")
def _person(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _replace(
        conn, people, people.c.id == p["person_id"],
        id=p["person_id"], institution_id=p["institution_id"], name=p["name"],
    )  # fmt: skip


@roster.on("PersonUpdated")
def _person_updated(conn: sa.Connection, e: Envelope) -> None:
    if "name" in e.payload:
        conn.execute(
            people.update()
            .where(people.c.id == e.payload["person_id"])
            .values(name=e.payload["name"])
        )


@roster.on("CycleOpened")
def _cycle(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _replace(
        conn, cycles, cycles.c.id == p["cycle_id"],
        id=p["cycle_id"], program_id=p["program_id"], institution_id=p["institution_id"],
        name=p["name"], pairing_format=p["pairing_format"],
        review_months=list(p.get("review_months") or []), opened_at=format_time(e.occurred_at),
    )  # fmt: skip


def _role_key(p: dict) -> str:
    return f"{p['person_id']}:{p['role']}:{p.get('institution_id') or '*'}:{p.get('program_id') or '*'}"


@roster.on("RoleGranted")
def _granted(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _replace(
        conn, staff_roles, staff_roles.c.grant_key == _role_key(p),
        grant_key=_role_key(p), person_id=p["person_id"], role=p["role"],
        institution_id=p.get("institution_id"), program_id=p.get("program_id"),
    )  # fmt: skip


@roster.on("RoleRevoked")
def _revoked(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(staff_roles.delete().where(staff_roles.c.grant_key == _role_key(e.payload)))


@roster.on("PairCreated")
def _pair(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _replace(
        conn, pairs, pairs.c.pair_id == p["pair_id"],
        pair_id=p["pair_id"], cycle_id=p["cycle_id"], mentee_id=p["mentee_id"],
        mentor_id=p["mentor_id"], status="active", created_at=format_time(e.occurred_at),
    )  # fmt: skip


@roster.on("PairEnded")
def _pair_ended(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        pairs.update()
        .where(pairs.c.pair_id == e.payload["pair_id"])
        .values(status="ended", ended_at=format_time(e.occurred_at))
    )


@roster.on("GroupFormed")
def _group(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    existing = conn.execute(
        sa.select(groups.c.created_at).where(groups.c.group_id == p["group_id"])
    ).scalar()
    _replace(
        conn, groups, groups.c.group_id == p["group_id"],
        group_id=p["group_id"], cycle_id=p["cycle_id"], coach_id=p["coach_id"],
        member_ids=sorted(p["member_ids"]), created_at=existing or format_time(e.occurred_at),
    )  # fmt: skip


# --- the service's own read models --------------------------------------------------------------

meetings = sa.Table(
    "meetings", metadata,
    sa.Column("meeting_id", sa.String(36), primary_key=True),
    sa.Column("pair_id", sa.String(36), nullable=False, index=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("logged_by", sa.String(36), nullable=False),
    sa.Column("met_on", sa.String(10), nullable=False, index=True),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("topics", sa.JSON, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("objectives", sa.JSON, nullable=False),
    sa.Column("action_items", sa.JSON, nullable=False),
    sa.Column("attendees", sa.JSON, nullable=False),
    sa.Column("logged_at", sa.String(40), nullable=False),
    sa.Column("confirmed_by", sa.String(36), nullable=True),
    sa.Column("confirmed_at", sa.String(40), nullable=True),
)  # fmt: skip
objectives = sa.Table(
    "objectives", metadata,
    sa.Column("objective_id", sa.String(36), primary_key=True),
    sa.Column("pair_id", sa.String(36), nullable=False, index=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
    sa.Column("area", sa.String(20), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("due_date", sa.String(10), nullable=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("set_by", sa.String(36), nullable=False),
    sa.Column("set_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)  # fmt: skip
objective_history = sa.Table(
    "objective_history", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("objective_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("changed_by", sa.String(36), nullable=False),
    sa.Column("changed_at", sa.String(40), nullable=False),
)  # fmt: skip
concerns = sa.Table(
    "concerns", metadata,
    sa.Column("concern_id", sa.String(36), primary_key=True),
    sa.Column("pair_id", sa.String(36), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=True, index=True),
    sa.Column("raised_by", sa.String(36), nullable=False, index=True),
    sa.Column("raiser_role", sa.String(10), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("parties", sa.JSON, nullable=False),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("raised_at", sa.String(40), nullable=False),
    sa.Column("ack_due", sa.String(40), nullable=False, index=True),
    sa.Column("acknowledged_by", sa.String(36), nullable=True),
    sa.Column("acknowledged_at", sa.String(40), nullable=True),
    sa.Column("escalated", sa.Boolean, nullable=False),
    sa.Column("escalation_reason", sa.String(20), nullable=True),
    sa.Column("escalated_at", sa.String(40), nullable=True),
    sa.Column("resolved_by", sa.String(36), nullable=True),
    sa.Column("resolved_at", sa.String(40), nullable=True),
    sa.Column("resolution_note", sa.Text, nullable=True),
)  # fmt: skip
concern_access = sa.Table(
    "concern_access", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("concern_id", sa.String(36), nullable=False, index=True),
    sa.Column("viewer_id", sa.String(36), nullable=False),
    sa.Column("viewer_role", sa.String(20), nullable=False),
    sa.Column("viewed_at", sa.String(40), nullable=False),
)  # fmt: skip

feedback_view = Projection(
    "feedback_view",
    tables=[meetings, objectives, objective_history, concerns, concern_access],
)


@feedback_view.on("MeetingLogged")
def _meeting(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(meetings.insert().values(
        meeting_id=p["meeting_id"], pair_id=p["pair_id"], cycle_id=p["cycle_id"],
        institution_id=e.institution_id, logged_by=p["logged_by"], met_on=p["date"],
        duration_minutes=p["duration_minutes"], mode=p["mode"], topics=p["topics"],
        notes=p["notes"], objectives=p["objectives"], action_items=p["action_items"],
        attendees=p["attendees"], logged_at=format_time(e.occurred_at),
    ))  # fmt: skip


@feedback_view.on("MeetingConfirmed")
def _confirmed(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        meetings.update()
        .where(meetings.c.meeting_id == e.payload["meeting_id"])
        .values(confirmed_by=e.payload["confirmed_by"], confirmed_at=format_time(e.occurred_at))
    )


def _history(conn: sa.Connection, e: Envelope, status: str, note: str, by: str) -> None:
    conn.execute(objective_history.insert().values(
        event_id=e.event_id, objective_id=e.payload["objective_id"], status=status, note=note,
        changed_by=by, changed_at=format_time(e.occurred_at),
    ))  # fmt: skip


@feedback_view.on("ObjectiveSet")
def _objective(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    at = format_time(e.occurred_at)
    conn.execute(objectives.insert().values(
        objective_id=p["objective_id"], pair_id=p["pair_id"], cycle_id=p["cycle_id"],
        mentee_id=p["mentee_id"], area=p["area"], title=p["title"], description=p["description"],
        due_date=p["due_date"], status="open", set_by=p["set_by"], set_at=at, updated_at=at,
    ))  # fmt: skip
    _history(conn, e, "open", "", p["set_by"])


@feedback_view.on("ObjectiveUpdated")
def _objective_updated(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        objectives.update()
        .where(objectives.c.objective_id == p["objective_id"])
        .values(status=p["status"], updated_at=format_time(e.occurred_at))
    )
    _history(conn, e, p["status"], p["note"], p["updated_by"])


@feedback_view.on("ConcernRaised")
def _concern(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(concerns.insert().values(
        concern_id=p["concern_id"], pair_id=p["pair_id"], cycle_id=p["cycle_id"],
        institution_id=e.institution_id, raised_by=p["raised_by"], raiser_role=p["raiser_role"],
        kind=p["kind"], text=p["text"], parties=p["parties"], status="raised",
        raised_at=format_time(e.occurred_at), ack_due=p["ack_due"], escalated=False,
    ))  # fmt: skip


def _concern_update(conn: sa.Connection, e: Envelope, **values) -> None:
    conn.execute(
        concerns.update().where(concerns.c.concern_id == e.payload["concern_id"]).values(**values)
    )


@feedback_view.on("ConcernAcknowledged")
def _acknowledged(conn: sa.Connection, e: Envelope) -> None:
    _concern_update(
        conn, e, status="acknowledged", acknowledged_by=e.payload["acknowledged_by"],
        acknowledged_at=format_time(e.occurred_at),
    )  # fmt: skip


@feedback_view.on("ConcernEscalated")
def _escalated(conn: sa.Connection, e: Envelope) -> None:
    _concern_update(
        conn, e, escalated=True, escalation_reason=e.payload["reason"],
        escalated_at=format_time(e.occurred_at),
    )  # fmt: skip


@feedback_view.on("ConcernResolved")
def _resolved(conn: sa.Connection, e: Envelope) -> None:
    _concern_update(
        conn, e, status="resolved", resolved_by=e.payload["resolved_by"],
        resolved_at=format_time(e.occurred_at), resolution_note=e.payload["note"],
    )  # fmt: skip


@feedback_view.on("ConfidentialRecordViewed")
def _viewed(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(concern_access.insert().values(
        event_id=e.event_id, concern_id=p["concern_id"], viewer_id=p["viewer_id"],
        viewer_role=p["viewer_role"], viewed_at=format_time(e.occurred_at),
    ))  # fmt: skip


# --- surveys ------------------------------------------------------------------------------------

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
    _replace(
        conn, survey_responses, key, instance_id=p["instance_id"], person_id=p["person_id"],
        revision=p["revision"], answers=p["answers"], first_answered_at=first or at,
        answered_at=at,
    )  # fmt: skip
    conn.execute(survey_response_history.insert().values(
        event_id=e.event_id, instance_id=p["instance_id"], person_id=p["person_id"],
        revision=p["revision"], answers=p["answers"], answered_at=at,
    ))  # fmt: skip
