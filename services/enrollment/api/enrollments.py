"""Enrollments: joining a cycle, the matching profile, ranking, conflicts, withdrawal."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import DomainError, NotFound, rls
from services.eventkit.access import authorize, guard, people, visible
from services.eventkit.envelope import new_id
from services.eventkit.http import principal, request_meta, runtime
from services.eventkit.policy import Resource

from .. import readmodels as rm
from ..domain import Enrollment, Person, Program
from . import access
from .access import cycle_of, enrollment_of, row
from .schemas import (
    ConflictIn,
    ConflictOut,
    EnrollmentIn,
    EnrollmentOut,
    EnrollmentQuery,
    ProfileFields,
    RankingIn,
    WithdrawIn,
)

blp = Blueprint("enrollments", __name__, url_prefix="/api", description="Enrollments")

PROFILE_KEYS = tuple(ProfileFields().fields)


def _enrollment_view(conn: sa.Connection, enrollment_id: str) -> sa.RowMapping:
    e, p = rm.enrollments, rm.people
    found = (
        conn.execute(
            sa.select(e, p.c.name, p.c.training_level)
            .join(p, p.c.id == e.c.person_id)
            .where(e.c.id == enrollment_id)
        )
        .mappings()
        .first()
    )
    if found is None:
        raise NotFound("No such enrollment.")
    return found


def _load(conn: sa.Connection, enrollment_id: str) -> tuple[Enrollment, sa.RowMapping]:
    view = _enrollment_view(conn, enrollment_id)
    return runtime().load(conn, Enrollment, enrollment_id), view


def _save(conn: sa.Connection, enrollment: Enrollment, view: sa.RowMapping) -> sa.RowMapping:
    runtime().save(conn, enrollment, request_meta(view["institution_id"]))
    return _enrollment_view(conn, enrollment.id)


@blp.route("/cycles/<cycle_id>/enrollments", methods=["POST"])
@guard("enrollment.create")
@blp.arguments(EnrollmentIn)
@blp.response(201, EnrollmentOut)
def enroll(data, cycle_id):
    """Enroll a person as mentor or mentee (a coordinator, or the person themself)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = row(conn, rm.cycles, cycle_id, "cycle")
        scope = cycle_of(cycle)
        authorize(Resource(scope.institution_id, scope.program_id, people(data["person_id"])))
        e = rm.enrollments
        existing = conn.execute(
            sa.select(e.c.id, e.c.status).where(
                e.c.cycle_id == cycle_id,
                e.c.person_id == data["person_id"],
                e.c.role == data["role"],
            )
        ).first()
        if existing and existing.status == "active":
            raise DomainError(
                f"This person is already a {data['role']} in this cycle.", "person_id"
            )
        if existing:
            raise DomainError(
                "This person withdrew from this cycle; re-enroll them instead.", "person_id"
            )
        program = rt.load(conn, Program, cycle["program_id"])
        person = rt.load(conn, Person, data["person_id"])
        enrollment = Enrollment(new_id())
        profile = {k: data[k] for k in PROFILE_KEYS if k in data}
        enrollment.enroll(
            program, cycle_id, person, data["role"], profile, data["accept_guidelines"]
        )
        return _save(conn, enrollment, cycle)


@blp.route("/cycles/<cycle_id>/enrollments", methods=["GET"])
@guard("cycle.roster", access.cycle)
@blp.arguments(EnrollmentQuery, location="query")
@blp.response(200, EnrollmentOut(many=True))
def list_enrollments(query, cycle_id):
    """The cycle's roster for coordinators; filter by role, status, or a name search."""
    e, p = rm.enrollments, rm.people
    with runtime().reading() as conn:
        select = (
            sa.select(e, p.c.name, p.c.training_level)
            .join(p, p.c.id == e.c.person_id)
            .where(e.c.cycle_id == cycle_id)
        )
        if "role" in query:
            select = select.where(e.c.role == query["role"])
        if "status" in query:
            select = select.where(e.c.status == query["status"])
        if query["q"]:
            select = select.where(sa.func.lower(p.c.name).like(f"%{query['q'].lower()}%"))
        return conn.execute(select.order_by(e.c.role, p.c.name)).mappings().all()


@blp.route("/cycles/<cycle_id>/mentors", methods=["GET"])
@guard("cycle.read", access.cycle)
@blp.response(200, EnrollmentOut(many=True))
def list_mentors(cycle_id):
    """Active mentors a mentee of this cycle can rank (no contact details)."""
    e, p = rm.enrollments, rm.people
    with runtime().reading() as conn:
        rows = conn.execute(
            sa.select(e.c.id, e.c.cycle_id, e.c.person_id, e.c.role, e.c.interests, e.c.languages,
                      e.c.meeting_mode, e.c.capacity, p.c.name, p.c.training_level)
            .join(p, p.c.id == e.c.person_id)
            .where(e.c.cycle_id == cycle_id, e.c.role == "mentor", e.c.status == "active")
            .order_by(p.c.name)
        ).mappings().all()  # fmt: skip
        return rows


@blp.route("/enrollments/<enrollment_id>", methods=["GET"])
@guard("enrollment.read", access.enrollment)
@blp.response(200, EnrollmentOut)
def get_enrollment(enrollment_id):
    with runtime().reading() as conn:
        return _enrollment_view(conn, enrollment_id)


@blp.route("/enrollments/<enrollment_id>", methods=["PATCH"])
@guard("enrollment.update", access.enrollment)
@blp.arguments(ProfileFields)
@blp.response(200, EnrollmentOut)
def update_profile(data, enrollment_id):
    with runtime().engine.begin() as conn:
        enrollment, view = _load(conn, enrollment_id)
        enrollment.update_profile(data)
        return _save(conn, enrollment, view)


@blp.route("/enrollments/<enrollment_id>/ranking", methods=["PUT"])
@guard("enrollment.update", access.enrollment)
@blp.arguments(RankingIn)
@blp.response(200, EnrollmentOut)
def rank_mentors(data, enrollment_id):
    """A mentee's mentors in order of interest, best first (replaces the earlier ranking)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        enrollment, view = _load(conn, enrollment_id)
        mentors = [
            rt.load(conn, Enrollment, mentor_id) for mentor_id in data["mentor_enrollment_ids"]
        ]
        enrollment.rank(mentors)
        return _save(conn, enrollment, view)


@blp.route("/enrollments/<enrollment_id>/conflicts", methods=["GET"])
@guard("enrollment.read", access.enrollment)
@blp.response(200, ConflictOut(many=True))
def list_conflicts(enrollment_id):
    with runtime().reading() as conn:
        c = rm.conflicts
        return (
            conn.execute(
                sa.select(c.c.other_person_id, c.c.kind).where(c.c.enrollment_id == enrollment_id)
            )
            .mappings()
            .all()
        )


@blp.route("/enrollments/<enrollment_id>/conflicts", methods=["POST"])
@guard("enrollment.update", access.enrollment)
@blp.arguments(ConflictIn)
@blp.response(200, EnrollmentOut)
def declare_conflict(data, enrollment_id):
    """Someone this participant must never be paired with (supervisor, assessor, …)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        enrollment, view = _load(conn, enrollment_id)
        enrollment.declare_conflict(rt.load(conn, Person, data["other_person_id"]), data["kind"])
        return _save(conn, enrollment, view)


@blp.route("/enrollments/<enrollment_id>/conflicts/<other_person_id>", methods=["DELETE"])
@guard("enrollment.update", access.enrollment)
@blp.response(200, EnrollmentOut)
def remove_conflict(enrollment_id, other_person_id):
    with runtime().engine.begin() as conn:
        enrollment, view = _load(conn, enrollment_id)
        enrollment.remove_conflict(other_person_id)
        return _save(conn, enrollment, view)


@blp.route("/enrollments/<enrollment_id>/guidelines-acceptance", methods=["POST"])
@guard("enrollment.update", access.enrollment)
@blp.response(200, EnrollmentOut)
def accept_guidelines(enrollment_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        enrollment, view = _load(conn, enrollment_id)
        enrollment.accept_guidelines(rt.load(conn, Program, enrollment.program_id))
        return _save(conn, enrollment, view)


@blp.route("/enrollments/<enrollment_id>/withdraw", methods=["POST"])
@guard("enrollment.update", access.enrollment)
@blp.arguments(WithdrawIn)
@blp.response(200, EnrollmentOut)
def withdraw(data, enrollment_id):
    with runtime().engine.begin() as conn:
        enrollment, view = _load(conn, enrollment_id)
        enrollment.withdraw(data["reason"])
        return _save(conn, enrollment, view)


@blp.route("/enrollments/<enrollment_id>/reenroll", methods=["POST"])
@guard("enrollment.update", access.enrollment)
@blp.response(200, EnrollmentOut)
def reenroll(enrollment_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        enrollment, view = _load(conn, enrollment_id)
        enrollment.reenroll(rt.load(conn, Program, enrollment.program_id))
        return _save(conn, enrollment, view)


# --- a participant's own pages ------------------------------------------------------------------


class PersonEnrollmentOut(EnrollmentOut):
    """An enrollment with what its person's pages show beside it: cycle and program."""

    cycle_name = ma.fields.String()
    cycle_open = ma.fields.Boolean()
    pairing_format = ma.fields.String()
    meeting_expectations = ma.fields.String()
    program_name = ma.fields.String()
    guidelines = ma.fields.String()
    guidelines_version = ma.fields.Integer()


class CardOut(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    pronouns = ma.fields.String()
    training_level = ma.fields.String()
    specialty = ma.fields.String()


@blp.route("/people/<person_id>/enrollments", methods=["GET"])
@guard("person.enrollments", access.person, rows="enrollment.read")
@blp.response(200, PersonEnrollmentOut(many=True))
def person_enrollments(person_id):
    """Every enrollment of a person, withdrawn ones too, with its cycle and program (the person,
    or coordinators of their institution, each seeing their own programs)."""
    e, p, c, pr = rm.enrollments, rm.people, rm.cycles, rm.programs
    with runtime().reading() as conn:
        found = conn.execute(
            sa.select(
                e, p.c.name, p.c.training_level, c.c.name.label("cycle_name"),
                c.c.is_open.label("cycle_open"), c.c.pairing_format, c.c.meeting_expectations,
                pr.c.name.label("program_name"), pr.c.guidelines, pr.c.guidelines_version,
            )
            .join(p, p.c.id == e.c.person_id)
            .join(c, c.c.id == e.c.cycle_id)
            .join(pr, pr.c.id == e.c.program_id)
            .where(e.c.person_id == person_id)
            .order_by(pr.c.name, c.c.name, e.c.role)
        ).mappings().all()  # fmt: skip
    return visible("enrollment.read", found, enrollment_of)


@blp.route("/people/<person_id>/card", methods=["GET"])
@guard("person.card")
@blp.response(200, CardOut)
def person_card(person_id):
    """Name, pronouns, training level and specialty (no contact details): for the person, the
    coordinators of their institution, and anyone active in a cycle the person is active in."""
    e = rm.enrollments
    me = principal().user_id
    with rls.routing(runtime()) as conn:  # the facts the policy decides on, whoever asks
        institution_id = row(conn, rm.people, person_id, "person")["institution_id"]
        theirs = sa.select(e.c.cycle_id).where(e.c.person_id == person_id, e.c.status == "active")
        shares_a_cycle = conn.execute(
            sa.select(e.c.id).where(
                e.c.person_id == me, e.c.status == "active", e.c.cycle_id.in_(theirs)
            )
        ).first()
    # Whoever shares an active cycle with the person counts among the people it concerns.
    authorize(Resource(institution_id, people=people(person_id, shares_a_cycle and me)))
    with runtime().reading() as conn:
        return row(conn, rm.people, person_id, "person")
