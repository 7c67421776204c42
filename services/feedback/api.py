"""Feedback's HTTP API: meetings, objectives, concerns, surveys, program health, export.

Who may do what:
- meetings and objectives: members of the pair (or group) act; members and the coordinators of
  the program's institution read;
- concerns: a member raises one about their pair; only coordinators of the program's institution
  who are not a party to it (and the consortium admin once it is escalated) read and handle it;
  every read of its content is recorded as ConfidentialRecordViewed; anyone else gets 404;
- surveys: coordinators of an institution define its templates and schedule them for its cycles;
  only the people an instance was issued to answer it (one response each, edits are revisions);
  nobody reads individual responses through the API, only the suppressed aggregates in health;
- health and the de-identified export: coordinators of the institution and the consortium admin.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, abort
from flask_smorest import Blueprint
from marshmallow import validate

from services.eventkit import ConcurrencyError, DomainError, NotFound, rls
from services.eventkit.auth import ADMIN, COORDINATOR
from services.eventkit.config import env, token_key
from services.eventkit.contracts.feedback import (
    CONCERN_KINDS,
    DAYS_TO_ANSWER,
    MAX_DAYS_TO_ANSWER,
    MEETING_MODES,
    OBJECTIVE_AREAS,
    OBJECTIVE_STATUSES,
    SURVEY_ITEM_KINDS,
)
from services.eventkit.envelope import new_id, parse_time
from services.eventkit.http import principal, request_meta, runtime

from . import concerns as timers
from . import readmodels as rm
from . import surveys
from .domain import (
    BUILTIN_TEMPLATES,
    EXPORT_COLUMNS,
    MIN_PEOPLE,
    Concern,
    ConcernAccessLog,
    Meeting,
    Objective,
    Relationship,
    SurveyResponse,
    SurveySchedule,
    SurveyTemplate,
    answer_errors,
    concern_access,
    export_rows,
    normalize_items,
    program_health,
    pseudonym,
    stable_id,
    suppressed_unless,
    survey_health,
)

F = ma.fields
blp = Blueprint("feedback", __name__, url_prefix="/api", description="Feedback")

DateField = F.Date  # ISO dates in and out


def _texts(max_items: int, max_length: int):
    return F.List(
        F.String(validate=validate.Length(max=max_length)),
        load_default=list,
        validate=validate.Length(max=max_items),
    )


# --- schemas ------------------------------------------------------------------------------------


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


# --- who is paired ------------------------------------------------------------------------------


def _refuse_hidden(conn: sa.Connection, table: sa.Table, *criteria) -> None:
    """403, as the checks below answer on SQLite, for a row row-level security hides."""
    if rls.hidden(conn, table, *criteria):
        abort(403, description="You do not have the role this needs for that institution.")


def _cycle(conn: sa.Connection, cycle_id: str) -> sa.RowMapping:
    row = conn.execute(sa.select(rm.cycles).where(rm.cycles.c.id == cycle_id)).mappings().first()
    if row is None:
        raise NotFound("No such cycle (or its enrollment events have not arrived yet).")
    return row


def _withdrawn(conn: sa.Connection, cycle_id: str) -> set[str]:
    p = rm.participants
    rows = conn.execute(
        sa.select(p.c.person_id).where(p.c.cycle_id == cycle_id, p.c.status == "withdrawn")
    )
    return {r.person_id for r in rows}


def _pair_relationship(row: sa.RowMapping, withdrawn: set[str]) -> Relationship:
    return Relationship(
        id=row["pair_id"],
        cycle_id=row["cycle_id"],
        kind="pair",
        members={row["mentor_id"]: "mentor", row["mentee_id"]: "mentee"},
        active=row["status"] == "active" and not {row["mentor_id"], row["mentee_id"]} & withdrawn,
        started_on=parse_time(row["created_at"]).date(),
    )


def _group_relationship(row: sa.RowMapping, withdrawn: set[str]) -> Relationship:
    members = {m: "mentee" for m in row["member_ids"] if m not in withdrawn}
    members[row["coach_id"]] = "mentor"
    return Relationship(
        id=row["group_id"],
        cycle_id=row["cycle_id"],
        kind="group",
        members=members,
        active=row["coach_id"] not in withdrawn and len(members) > 1,
        started_on=parse_time(row["created_at"]).date(),
    )


def _relationship(conn: sa.Connection, pair_id: str) -> tuple[Relationship, sa.RowMapping]:
    """The pair (or coaching group) with this id and its cycle; 404 if unknown."""
    row = conn.execute(sa.select(rm.pairs).where(rm.pairs.c.pair_id == pair_id)).mappings().first()
    group = None
    if row is None:
        group = (
            conn.execute(sa.select(rm.groups).where(rm.groups.c.group_id == pair_id))
            .mappings()
            .first()
        )
        if group is None:
            _refuse_hidden(conn, rm.pairs, rm.pairs.c.pair_id == pair_id)
            _refuse_hidden(conn, rm.groups, rm.groups.c.group_id == pair_id)
            raise NotFound("No such pair or group.")
    cycle = _cycle(conn, (row or group)["cycle_id"])
    withdrawn = _withdrawn(conn, cycle["id"])
    rel = _pair_relationship(row, withdrawn) if row else _group_relationship(group, withdrawn)
    return rel, cycle


def _cycle_relationships(conn: sa.Connection, cycle_id: str) -> list[Relationship]:
    withdrawn = _withdrawn(conn, cycle_id)
    pairs = conn.execute(sa.select(rm.pairs).where(rm.pairs.c.cycle_id == cycle_id)).mappings()
    groups = (
        conn.execute(sa.select(rm.groups).where(rm.groups.c.cycle_id == cycle_id)).mappings().all()
    )
    # A group's members are also published as pairs with the coach: count them once, as the group.
    grouped = {(g["coach_id"], m) for g in groups for m in g["member_ids"]}
    return [
        *(
            _pair_relationship(p, withdrawn)
            for p in pairs
            if (p["mentor_id"], p["mentee_id"]) not in grouped
        ),
        *(_group_relationship(g, withdrawn) for g in groups),
    ]


def _names(conn: sa.Connection, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(rm.people.c.id, rm.people.c.name).where(rm.people.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


def _coordinates(institution_id: str) -> bool:
    return principal().has((COORDINATOR,), institution_id)


def _consortium_admin() -> bool:
    return any(g.role == ADMIN and g.institution_id is None for g in principal().grants)


def _staff(institution_id: str) -> bool:
    return principal().has((COORDINATOR, ADMIN), institution_id)


def _member_or_coordinator(rel: Relationship, cycle: sa.RowMapping) -> None:
    who = principal()
    if rel.role_of(who.user_id) is None and not _coordinates(cycle["institution_id"]):
        abort(403, description="Only the members of this pair and its coordinators can see this.")


def _member(rel: Relationship) -> str:
    who = principal()
    if rel.role_of(who.user_id) is None:
        abort(403, description="Only a member of this pair can do this.")
    return who.user_id


@blp.route("/me/pairs", methods=["GET"])
@blp.response(200, RelationshipOut(many=True))
def my_pairs():
    """The caller's pairs and groups, in every cycle."""
    me = principal().user_id
    with runtime().reading() as conn:
        pair_rows = conn.execute(
            sa.select(rm.pairs.c.pair_id).where(
                sa.or_(rm.pairs.c.mentee_id == me, rm.pairs.c.mentor_id == me)
            )
        )
        ids = [r.pair_id for r in pair_rows]
        ids += [
            g.group_id
            for g in conn.execute(
                sa.select(rm.groups.c.group_id, rm.groups.c.coach_id, rm.groups.c.member_ids)
            )
            if g.coach_id == me or me in g.member_ids
        ]
        out = []
        for pair_id in ids:
            try:
                rel, _ = _relationship(conn, pair_id)
            except NotFound:
                continue  # its cycle has not arrived yet
            if rel.role_of(me) is not None:
                out.append({**dataclasses.asdict(rel), "names": _names(conn, set(rel.members))})
        return out


# --- meetings -----------------------------------------------------------------------------------


def _meeting_row(conn: sa.Connection, meeting_id: str) -> sa.RowMapping:
    row = (
        conn.execute(sa.select(rm.meetings).where(rm.meetings.c.meeting_id == meeting_id))
        .mappings()
        .first()
    )
    if row is None:
        _refuse_hidden(conn, rm.meetings, rm.meetings.c.meeting_id == meeting_id)
        raise NotFound("No such meeting.")
    return row


@blp.route("/pairs/<pair_id>/meetings", methods=["POST"])
@blp.arguments(MeetingIn)
@blp.response(201, MeetingOut)
def log_meeting(data, pair_id):
    """A member logs a meeting (not dated in the future nor before the pair existed)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        rel, cycle = _relationship(conn, pair_id)
        me = _member(rel)
        meeting = Meeting(new_id())
        meeting.log(rel, me, today=timers.clock().date(), **data)
        rt.save(conn, meeting, request_meta(cycle["institution_id"]))
        return _meeting_row(conn, meeting.id)


@blp.route("/pairs/<pair_id>/meetings", methods=["GET"])
@blp.response(200, MeetingOut(many=True))
def list_meetings(pair_id):
    with runtime().reading() as conn:
        rel, cycle = _relationship(conn, pair_id)
        _member_or_coordinator(rel, cycle)
        m = rm.meetings
        return (
            conn.execute(sa.select(m).where(m.c.pair_id == pair_id).order_by(m.c.met_on.desc()))
            .mappings()
            .all()
        )


@blp.route("/meetings/<meeting_id>", methods=["GET"])
@blp.response(200, MeetingOut)
def get_meeting(meeting_id):
    with runtime().reading() as conn:
        row = _meeting_row(conn, meeting_id)
        rel, cycle = _relationship(conn, row["pair_id"])
        _member_or_coordinator(rel, cycle)
        return row


@blp.route("/meetings/<meeting_id>/confirm", methods=["POST"])
@blp.response(200, MeetingOut)
def confirm_meeting(meeting_id):
    """The other member confirms the meeting took place."""
    rt = runtime()
    with rt.engine.begin() as conn:
        row = _meeting_row(conn, meeting_id)
        rel, cycle = _relationship(conn, row["pair_id"])
        me = _member(rel)
        meeting = rt.load(conn, Meeting, meeting_id)
        meeting.confirm(rel, me)
        rt.save(conn, meeting, request_meta(cycle["institution_id"]))
        return _meeting_row(conn, meeting_id)


# --- objectives ---------------------------------------------------------------------------------


def _objectives(conn: sa.Connection, **where) -> list[dict]:
    o, h = rm.objectives, rm.objective_history
    query = sa.select(o).order_by(o.c.set_at)
    for column, value in where.items():
        query = query.where(o.c[column] == value)
    rows = conn.execute(query).mappings().all()
    history: dict[str, list] = {}
    if rows:
        for entry in conn.execute(
            sa.select(h)
            .where(h.c.objective_id.in_([r["objective_id"] for r in rows]))
            .order_by(h.c.changed_at)
        ).mappings():
            history.setdefault(entry["objective_id"], []).append(entry)
    return [{**r, "history": history.get(r["objective_id"], [])} for r in rows]


@blp.route("/pairs/<pair_id>/objectives", methods=["POST"])
@blp.arguments(ObjectiveIn)
@blp.response(201, ObjectiveOut)
def set_objective(data, pair_id):
    """An objective of a mentee's action plan, agreed with the mentor."""
    rt = runtime()
    with rt.engine.begin() as conn:
        rel, cycle = _relationship(conn, pair_id)
        me = _member(rel)
        mentee_id = data.pop("mentee_id") or (
            me if rel.role_of(me) == "mentee" else (rel.mentees[0] if len(rel.mentees) == 1 else "")
        )
        objective = Objective(new_id())
        objective.set(rel, mentee_id, by=me, **data)
        rt.save(conn, objective, request_meta(cycle["institution_id"]))
        return _objectives(conn, objective_id=objective.id)[0]


@blp.route("/pairs/<pair_id>/objectives", methods=["GET"])
@blp.response(200, ObjectiveOut(many=True))
def list_objectives(pair_id):
    with runtime().reading() as conn:
        rel, cycle = _relationship(conn, pair_id)
        _member_or_coordinator(rel, cycle)
        return _objectives(conn, pair_id=pair_id)


@blp.route("/objectives/<objective_id>/status", methods=["POST"])
@blp.arguments(ObjectiveStatusIn)
@blp.response(200, ObjectiveOut)
def update_objective(data, objective_id):
    """Open, in progress, done or dropped, with a note; every change is kept in its history."""
    rt = runtime()
    with rt.engine.begin() as conn:
        found = _objectives(conn, objective_id=objective_id)
        if not found:
            _refuse_hidden(conn, rm.objectives, rm.objectives.c.objective_id == objective_id)
            raise NotFound("No such objective.")
        rel, cycle = _relationship(conn, found[0]["pair_id"])
        me = _member(rel)
        objective = rt.load(conn, Objective, objective_id)
        objective.update(rel, data["status"], me, data["note"])
        rt.save(conn, objective, request_meta(cycle["institution_id"]))
        return _objectives(conn, objective_id=objective_id)[0]


# --- confidential concerns ----------------------------------------------------------------------


def _concern_row(conn: sa.Connection, concern_id: str) -> sa.RowMapping:
    row = (
        conn.execute(sa.select(rm.concerns).where(rm.concerns.c.concern_id == concern_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("No such concern.")
    return row


def _capacity(row: sa.RowMapping) -> str | None:
    who = principal()
    return concern_access(
        raised_by=row["raised_by"],
        parties=row["parties"],
        escalated=bool(row["escalated"]),
        viewer_id=who.user_id,
        coordinates_institution=_coordinates(row["institution_id"]),
        is_admin=_consortium_admin(),
    )


def _handler_capacity(row: sa.RowMapping) -> str:
    """Coordinators (not parties) handle a concern; the admin once it is escalated. Anyone else
    is told it does not exist."""
    capacity = _capacity(row)
    if capacity not in ("coordinator", "consortium_admin"):
        raise NotFound("No such concern.")
    return capacity


@blp.route("/pairs/<pair_id>/concerns", methods=["POST"])
@blp.arguments(ConcernIn)
@blp.response(201, ConcernSummaryOut)
def raise_concern(data, pair_id):
    """A member raises a concern about their pair. Only coordinators of the program's institution
    see it, never the other member; if a coordinator is a party, it goes to the consortium admin."""
    rt = runtime()
    with rt.engine.begin() as conn:
        rel, cycle = _relationship(conn, pair_id)
        me = _member(rel)
        concern = Concern(new_id())
        concern.raise_(
            rel, me, data["kind"], data["text"], timers.clock(), timers.ack_hours(),
            _coordinator_ids(conn, cycle),
        )  # fmt: skip
        rt.save(conn, concern, request_meta(cycle["institution_id"]))
        return _concern_row(conn, concern.id)


def _coordinator_ids(conn: sa.Connection, cycle: sa.RowMapping) -> set[str]:
    # Where a concern goes must not depend on what its raiser's scope lets them see.
    s = rm.staff_roles
    with rls.unrestricted(conn):
        rows = conn.execute(
            sa.select(s.c.person_id).where(
                s.c.role == COORDINATOR,
                s.c.institution_id == cycle["institution_id"],
                sa.or_(s.c.program_id.is_(None), s.c.program_id == cycle["program_id"]),
            )
        ).all()
    return {r.person_id for r in rows}


@blp.route("/concerns", methods=["GET"])
@blp.arguments(ConcernQuery, location="query")
@blp.response(200, ConcernSummaryOut(many=True))
def list_concerns(query):
    """Concerns the caller may handle or raised, without their content."""
    who = principal()
    c = rm.concerns
    select = sa.select(c).order_by(c.c.raised_at)
    if query["cycle_id"]:
        select = select.where(c.c.cycle_id == query["cycle_id"])
    if query["status"]:
        select = select.where(c.c.status == query["status"])
    institutions = who.institutions((COORDINATOR,))
    if institutions is not None and not _consortium_admin():
        select = select.where(
            sa.or_(c.c.institution_id.in_(institutions), c.c.raised_by == who.user_id)
        )
    with runtime().reading() as conn:
        return [r for r in conn.execute(select).mappings() if _capacity(r) is not None]


@blp.route("/concerns/<concern_id>", methods=["GET"])
@blp.response(200, ConcernOut)
def read_concern(concern_id):
    """The concern's content; the read is recorded (ConfidentialRecordViewed) before it is shown."""
    rt = runtime()
    for attempt in range(3):
        try:
            with rt.engine.begin() as conn:
                row = _concern_row(conn, concern_id)
                capacity = _capacity(row)
                if capacity is None:
                    raise NotFound("No such concern.")
                audit = rt.load(conn, ConcernAccessLog, concern_id)
                audit.viewed(principal().user_id, capacity)
                rt.save(conn, audit, request_meta(row["institution_id"]))
                return {**row, "viewed_as": capacity}
        except ConcurrencyError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@blp.route("/concerns/<concern_id>/acknowledge", methods=["POST"])
@blp.response(200, ConcernSummaryOut)
def acknowledge_concern(concern_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        row = _concern_row(conn, concern_id)
        _handler_capacity(row)
        concern = rt.load(conn, Concern, concern_id)
        concern.acknowledge(principal().user_id)
        rt.save(conn, concern, request_meta(row["institution_id"]))
        return _concern_row(conn, concern_id)


@blp.route("/concerns/<concern_id>/resolve", methods=["POST"])
@blp.arguments(ResolveIn)
@blp.response(200, ConcernSummaryOut)
def resolve_concern(data, concern_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        row = _concern_row(conn, concern_id)
        _handler_capacity(row)
        concern = rt.load(conn, Concern, concern_id)
        concern.resolve(principal().user_id, data["note"])
        rt.save(conn, concern, request_meta(row["institution_id"]))
        return _concern_row(conn, concern_id)


@blp.route("/concerns/<concern_id>/access-log", methods=["GET"])
@blp.response(200, AccessOut(many=True))
def concern_access_log(concern_id):
    """Who read the concern and when (the audit trail): its handlers and the consortium admin."""
    with runtime().reading() as conn:
        row = _concern_row(conn, concern_id)
        if not _consortium_admin():
            _handler_capacity(row)
        a = rm.concern_access
        return (
            conn.execute(sa.select(a).where(a.c.concern_id == concern_id).order_by(a.c.viewed_at))
            .mappings()
            .all()
        )


@blp.route("/concerns/escalate-due", methods=["POST"])
@blp.response(200, ConcernSummaryOut(many=True))
def escalate_due_concerns():
    """Escalate now every concern not acknowledged within CONCERN_ACK_HOURS (the worker also
    does this every minute). For operators: the consortium admin or the system."""
    if not principal().is_admin:  # a consortium-wide admin or system grant
        abort(403, description="Only the consortium admin or the system can do this.")
    rt = runtime()
    escalated = timers.escalate_due(rt)
    with rt.reading() as conn:
        return [_concern_row(conn, concern_id) for concern_id in escalated]


# --- program health and the de-identified export ------------------------------------------------


def _cycle_data(conn: sa.Connection, cycle_id: str):
    rels = _cycle_relationships(conn, cycle_id)
    m, o = rm.meetings, rm.objectives
    meetings = [
        {
            "pair_id": r.pair_id,
            "date": r.met_on,
            "duration_minutes": r.duration_minutes,
            "mode": r.mode,
            "confirmed": r.confirmed_by is not None,
        }
        for r in conn.execute(sa.select(m).where(m.c.cycle_id == cycle_id))
    ]
    objectives = [
        {"pair_id": r.pair_id, "mentee_id": r.mentee_id, "status": r.status}
        for r in conn.execute(sa.select(o).where(o.c.cycle_id == cycle_id))
    ]
    return rels, meetings, objectives


@blp.route("/cycles/<cycle_id>/health", methods=["GET"])
@blp.arguments(HealthQuery, location="query")
@blp.response(200)
def cycle_health(query, cycle_id):
    """Pairs with no meeting in `inactive_days` (at risk), meeting frequency, objectives,
    outcomes per mentor, and per issued survey its response rate and Likert means. Every aggregate describing fewer than 5 people is suppressed."""
    with runtime().reading() as conn:
        cycle = _cycle(conn, cycle_id)
        if not _staff(cycle["institution_id"]):
            abort(403, description="Only coordinators of this program can see its health.")
        rels, meetings, objectives = _cycle_data(conn, cycle_id)
        health = program_health(
            rels, meetings, objectives, timers.clock().date(), query["inactive_days"]
        )
        if _coordinates(cycle["institution_id"]):  # coordinators see whom to contact
            names = _names(conn, {p for r in rels for p in r.members})
            for pair in health["at_risk"]:
                pair["names"] = [names.get(p) for p in pair["member_ids"]]
            for outcome in health["mentor_outcomes"]:
                outcome["mentor_name"] = names.get(outcome["mentor_id"])
        else:  # the consortium admin sees de-identified health
            key = export_key()
            for pair in health["at_risk"]:
                pair["pair_id"] = pseudonym(key, pair["kind"], pair["pair_id"])
                pair["member_ids"] = [pseudonym(key, "person", p) for p in pair["member_ids"]]
            for outcome in health["mentor_outcomes"]:
                outcome["mentor_id"] = pseudonym(key, "person", outcome["mentor_id"])
        health["surveys"] = _survey_health(conn, cycle_id)
        return {"cycle_id": cycle_id, **health}


def export_key() -> str:
    return env("FEEDBACK_EXPORT_KEY", "") or token_key()


@blp.route("/cycles/<cycle_id>/export.csv", methods=["GET"])
def export_outcomes(cycle_id):
    """De-identified outcome data as CSV: pseudonymous ids (HMAC) and counts only. No rows when
    the cycle has fewer than 5 people (the header X-Tandem-Suppressed says so)."""
    with runtime().reading() as conn:
        cycle = _cycle(conn, cycle_id)
        if not _staff(cycle["institution_id"]):
            abort(403, description="Only coordinators of this program can export its outcomes.")
        rels, meetings, objectives = _cycle_data(conn, cycle_id)
    rows = export_rows(rels, meetings, objectives, export_key())
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="outcomes-{dt.date.today().isoformat()}.csv"'
    )
    if not rows:
        response.headers["X-Tandem-Suppressed"] = "fewer than 5 people"
    return response


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
    max_length = F.Integer(load_default=None, allow_none=True, validate=validate.Range(1, 2000))

    @ma.validates_schema
    def _fits_kind(self, data, **kwargs):
        kind = data.get("kind")
        if kind == "likert" and data.get("labels") and len(data["labels"]) != 5:
            raise ma.ValidationError("A Likert item has 5 labels, for 1 to 5.", "labels")
        if kind == "choice" and len(data.get("options") or []) < 2:
            raise ma.ValidationError("A choice item has at least two options.", "options")
        if kind == "choice" and len(set(data["options"])) != len(data["options"]):
            raise ma.ValidationError("Options must differ from each other.", "options")


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


def _require_coordinator(institution_id: str) -> None:
    if not _coordinates(institution_id):
        abort(403, description="Only coordinators of this institution can do this.")


def _template(conn: sa.Connection, template_id: str) -> sa.RowMapping:
    t = rm.survey_templates
    row = conn.execute(sa.select(t).where(t.c.template_id == template_id)).mappings().first()
    if row is None:
        raise NotFound("No such survey template.")
    return row


@blp.route("/survey-templates/builtins", methods=["GET"])
@blp.response(200, BuiltinOut(many=True))
def builtin_templates():
    """The ready-made templates (seed them into an institution to schedule them)."""
    principal()
    return [
        {**spec, "builtin": key, "items": normalize_items(spec["items"])}
        for key, spec in BUILTIN_TEMPLATES.items()
    ]


@blp.route("/institutions/<institution_id>/survey-templates", methods=["POST"])
@blp.arguments(TemplateIn)
@blp.response(201, TemplateOut)
def define_template(data, institution_id):
    """A coordinator defines a template: Likert (1-5, labelled), single-choice and text items."""
    _require_coordinator(institution_id)
    rt = runtime()
    with rt.engine.begin() as conn:
        template = SurveyTemplate(new_id())
        template.define(institution_id, by=principal().user_id, **data)
        rt.save(conn, template, request_meta(institution_id))
        return _template(conn, template.id)


@blp.route("/institutions/<institution_id>/survey-templates/builtins", methods=["POST"])
@blp.arguments(SeedIn)
@blp.response(200, TemplateOut(many=True))
def seed_templates(data, institution_id):
    """Copy the ready-made templates (all, or those named) into the institution; seeding twice
    changes nothing (each copy's id is stable per institution)."""
    _require_coordinator(institution_id)
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
@blp.response(200, TemplateOut(many=True))
def list_templates(institution_id):
    if not _staff(institution_id):
        abort(403, description="Only coordinators of this institution can see its templates.")
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
@blp.response(200, TemplateOut)
def get_template(template_id):
    with runtime().reading() as conn:
        row = _template(conn, template_id)
    if not _staff(row["institution_id"]):
        raise NotFound("No such survey template.")
    return row


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
@blp.arguments(ScheduleIn)
@blp.response(201, ScheduleOut)
def schedule_survey(data, cycle_id):
    """Schedule one of the institution's templates for a cycle at these months of it (default:
    the cycle's review months), each issue to be answered within `days_to_answer` days (default
    14). A template is scheduled once per cycle."""
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = _cycle(conn, cycle_id)
        _require_coordinator(cycle["institution_id"])
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
@blp.response(200, ScheduleOut(many=True))
def list_schedules(cycle_id):
    with runtime().reading() as conn:
        cycle = _cycle(conn, cycle_id)
        if not _staff(cycle["institution_id"]):
            abort(403, description="Only coordinators of this program can see its surveys.")
        return _schedules(conn, cycle_id)


@blp.route("/surveys/issue-due", methods=["POST"])
@blp.response(200, InstanceOut(many=True))
def issue_due_surveys():
    """Issue now every survey whose month has come (the worker also does this every minute); each
    instance is issued once, whoever asks and however often. The consortium admin or the system."""
    if not principal().is_admin:
        abort(403, description="Only the consortium admin or the system can do this.")
    rt = runtime()
    issued = surveys.issue_due(rt)
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
        for row in rows.all():
            response = _response(conn, row["instance_id"], me)
            status = "answered" if response else "open"
            out.append({**row, "status": status, "response": response})
        return out


@blp.route("/survey-instances/<instance_id>/responses", methods=["POST"])
@blp.arguments(AnswersIn)
@blp.response(200, ResponseOut)
def answer_survey(data, instance_id):
    """The issued person answers (201); answering again edits the response (200), as a new
    revision, every earlier one kept. Each answer is checked against its item (422 per item)."""
    me = principal().user_id
    rt = runtime()
    i, r = rm.survey_instances, rm.survey_recipients
    with rt.engine.begin() as conn:
        instance = (
            conn.execute(sa.select(i).where(i.c.instance_id == instance_id)).mappings().first()
        )
        if instance is None:
            _refuse_hidden(conn, i, i.c.instance_id == instance_id)
            raise NotFound("No such survey.")
        recipients = {
            x.person_id
            for x in conn.execute(sa.select(r.c.person_id).where(r.c.instance_id == instance_id))
        }
        if me not in recipients:
            abort(403, description="This survey was not issued to you.")
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
@blp.response(200, ResponseOut)
def my_response(instance_id):
    with runtime().reading() as conn:
        found = _response(conn, instance_id, principal().user_id)
    if found is None:
        raise NotFound("You have not answered this survey.")
    return found


def _survey_health(conn: sa.Connection, cycle_id: str) -> list[dict]:
    i, r, t = rm.survey_instances, rm.survey_recipients, rm.survey_templates
    instances = conn.execute(sa.select(i).where(i.c.cycle_id == cycle_id).order_by(i.c.due_on))
    instances = [dict(x) for x in instances.mappings()]
    if not instances:
        return []
    ids = [x["instance_id"] for x in instances]
    recipients: dict[str, list[str]] = {}
    for x in conn.execute(sa.select(r).where(r.c.instance_id.in_(ids))):
        recipients.setdefault(x.instance_id, []).append(x.person_id)
    for x in instances:
        x["recipients"] = recipients.get(x["instance_id"], [])
    templates = {
        x["template_id"]: {"name": x["name"], "items": x["items"]}
        for x in conn.execute(
            sa.select(t).where(t.c.template_id.in_({x["template_id"] for x in instances}))
        ).mappings()
    }
    s = rm.survey_responses
    responses = [
        {"instance_id": x.instance_id, "person_id": x.person_id, "answers": x.answers}
        for x in conn.execute(sa.select(s).where(s.c.instance_id.in_(ids)))
    ]
    return survey_health(instances, templates, responses)


# --- consortium-wide outcomes (consortium admin) ------------------------------------------------


class OutcomesQuery(ma.Schema):
    institution_id = F.String(load_default=None)


@dataclasses.dataclass
class _Tally:
    """What one program (or one institution) adds up to over its cycles."""

    cycles: set[str] = dataclasses.field(default_factory=set)
    relationships: list[Relationship] = dataclasses.field(default_factory=list)
    meetings: dict[str, list[dict]] = dataclasses.field(default_factory=dict)  # by relationship
    issued: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # (instance, person)
    responded: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    likert: dict[str, list[int]] = dataclasses.field(default_factory=dict)  # by person

    def add(self, other: _Tally) -> None:
        self.cycles |= other.cycles
        self.relationships += other.relationships
        self.meetings.update(other.meetings)
        self.issued |= other.issued
        self.responded |= other.responded
        for person, values in other.likert.items():
            self.likert.setdefault(person, []).extend(values)

    def outcome(self) -> dict:
        members = {p for r in self.relationships for p in r.members}
        counts = [len(self.meetings.get(r.id, [])) for r in self.relationships]
        held = [m for r in self.relationships for m in self.meetings.get(r.id, [])]

        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 3) if whole else None

        answers = [v for values in self.likert.values() for v in values]
        return {
            "cycles": len(self.cycles),
            "pairs": suppressed_unless(
                members,
                {
                    "pairs": sum(1 for r in self.relationships if r.kind == "pair"),
                    "groups": sum(1 for r in self.relationships if r.kind == "group"),
                },
            ),
            "meetings": suppressed_unless(
                members,
                {
                    "meetings": len(held),
                    "per_pair_mean": round(len(held) / len(counts), 2) if counts else None,
                    "confirmed_share": share(sum(1 for m in held if m["confirmed"]), len(held)),
                    "pairs_without_meeting_share": share(
                        sum(1 for c in counts if c == 0), len(counts)
                    ),
                },
            ),
            "surveys": suppressed_unless(
                {person for _, person in self.issued},
                {
                    "issued": len(self.issued),
                    "responded": len(self.responded),
                    "rate": share(len(self.responded), len(self.issued)),
                },
            ),
            "likert": suppressed_unless(
                set(self.likert),
                {
                    "answers": len(answers),
                    "mean": round(sum(answers) / len(answers), 2) if answers else None,
                },
            ),
        }


def _cycle_tally(conn: sa.Connection, cycle_id: str) -> _Tally:
    rels, meetings, _ = _cycle_data(conn, cycle_id)
    tally = _Tally(cycles={cycle_id}, relationships=[r for r in rels if r.active])
    for r in tally.relationships:
        tally.meetings[r.id] = []
    for m in meetings:
        if m["pair_id"] in tally.meetings:
            tally.meetings[m["pair_id"]].append(m)
    i, r, s, t = rm.survey_instances, rm.survey_recipients, rm.survey_responses, rm.survey_templates
    instances = conn.execute(
        sa.select(i.c.instance_id, t.c["items"])
        .join(t, t.c.template_id == i.c.template_id)
        .where(i.c.cycle_id == cycle_id)
    ).all()
    likert_items = {
        x.instance_id: {item["item_id"] for item in x.items if item["kind"] == "likert"}
        for x in instances
    }
    if not likert_items:
        return tally
    ids = list(likert_items)
    tally.issued = {
        (x.instance_id, x.person_id)
        for x in conn.execute(sa.select(r).where(r.c.instance_id.in_(ids)))
    }
    for x in conn.execute(sa.select(s).where(s.c.instance_id.in_(ids))):
        if (x.instance_id, x.person_id) not in tally.issued:
            continue
        tally.responded.add((x.instance_id, x.person_id))
        for item_id in likert_items[x.instance_id]:
            value = x.answers.get(item_id)
            if isinstance(value, int):
                tally.likert.setdefault(x.person_id, []).append(value)
    return tally


@blp.route("/outcomes", methods=["GET"])
@blp.arguments(OutcomesQuery, location="query")
@blp.response(200)
def consortium_outcomes(query):
    """De-identified outcomes of every institution and each of its programs, over all their
    cycles: pairs, meeting frequency, survey response rates and Likert means. Consortium admin
    only; every figure describing fewer than 5 people is suppressed. No person ids at all."""
    if not _consortium_admin():
        abort(403, description="Only the consortium admin sees consortium-wide outcomes.")
    c = rm.cycles
    select = sa.select(c.c.id, c.c.institution_id, c.c.program_id)
    if query["institution_id"]:
        select = select.where(c.c.institution_id == query["institution_id"])
    programs: dict[tuple[str, str], _Tally] = {}
    with runtime().reading() as conn:
        for cycle in conn.execute(select).all():
            key = (cycle.institution_id, cycle.program_id)
            programs.setdefault(key, _Tally()).add(_cycle_tally(conn, cycle.id))
    institutions: dict[str, _Tally] = {}
    for (institution_id, _), tally in programs.items():
        institutions.setdefault(institution_id, _Tally()).add(tally)
    return {
        "min_people": MIN_PEOPLE,
        "institutions": [
            {
                "institution_id": institution_id,
                **total.outcome(),
                "programs": [
                    {"program_id": program_id, **tally.outcome()}
                    for (inst, program_id), tally in sorted(programs.items())
                    if inst == institution_id
                ],
            }
            for institution_id, total in sorted(institutions.items())
        ],
    }
