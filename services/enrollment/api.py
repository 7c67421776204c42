"""Enrollment's HTTP API (OpenAPI from these marshmallow schemas)."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import validate

from services.eventkit import DomainError, NotFound
from services.eventkit.auth import ADMIN, COORDINATOR, ROLES
from services.eventkit.envelope import new_id
from services.eventkit.http import principal, request_meta, require, runtime

from . import readmodels as rm
from .domain import PROGRAM_TYPES, TRAINING_LEVELS, Enrollment, Institution, Person, Program

STAFF = (ADMIN, COORDINATOR)

blp = Blueprint("enrollment", __name__, url_prefix="/api", description="Enrollment")


class InstitutionIn(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    short_code = ma.fields.String(required=True, validate=validate.Length(min=1, max=20))
    time_zone = ma.fields.String(required=True)


class InstitutionOut(InstitutionIn):
    id = ma.fields.String()


class ProgramIn(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    program_type = ma.fields.String(required=True, validate=validate.OneOf(PROGRAM_TYPES))
    guidelines = ma.fields.String(load_default="")


class ProgramOut(ProgramIn):
    id = ma.fields.String()
    institution_id = ma.fields.String()


class CycleIn(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    cross_institution = ma.fields.Boolean(load_default=False)


class CycleOut(CycleIn):
    id = ma.fields.String()
    program_id = ma.fields.String()
    institution_id = ma.fields.String()
    is_open = ma.fields.Boolean()


class PersonIn(ma.Schema):
    institution_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = ma.fields.Email(required=True)
    training_level = ma.fields.String(required=True, validate=validate.OneOf(TRAINING_LEVELS))
    specialty = ma.fields.String(load_default="")


class PersonOut(PersonIn):
    id = ma.fields.String()


class PeopleQuery(ma.Schema):
    institution_id = ma.fields.String(required=True)


class EnrollmentIn(ma.Schema):
    person_id = ma.fields.String(required=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(("mentor", "mentee")))
    interests = ma.fields.List(
        ma.fields.String(validate=validate.Length(max=100)), load_default=list
    )
    capacity = ma.fields.Integer(load_default=None, allow_none=True)


class EnrollmentOut(EnrollmentIn):
    id = ma.fields.String()
    cycle_id = ma.fields.String()
    program_id = ma.fields.String()
    institution_id = ma.fields.String()


def _row(conn: sa.Connection, table: sa.Table, row_id: str, what: str) -> sa.RowMapping:
    row = conn.execute(sa.select(table).where(table.c.id == row_id)).mappings().first()
    if row is None:
        raise NotFound(f"No such {what}.")
    return row


@blp.route("/institutions", methods=["POST"])
@blp.arguments(InstitutionIn)
@blp.response(201, InstitutionOut)
def add_institution(data):
    require([ADMIN])
    rt = runtime()
    institution = Institution(new_id())
    with rt.engine.begin() as conn:
        taken = conn.execute(
            sa.select(rm.institutions.c.id).where(
                rm.institutions.c.short_code == data["short_code"].strip().upper()
            )
        ).first()
        if taken:
            raise DomainError("Another institution uses this short code.", "short_code")
        institution.add(**data)
        rt.save(conn, institution, request_meta(institution.id))
        return _row(conn, rm.institutions, institution.id, "institution")


@blp.route("/institutions", methods=["GET"])
@blp.response(200, InstitutionOut(many=True))
def list_institutions():
    visible = principal().institutions(ROLES)
    query = sa.select(rm.institutions).order_by(rm.institutions.c.name)
    if visible is not None:
        query = query.where(rm.institutions.c.id.in_(visible))
    with runtime().engine.connect() as conn:
        return conn.execute(query).mappings().all()


@blp.route("/institutions/<institution_id>/programs", methods=["POST"])
@blp.arguments(ProgramIn)
@blp.response(201, ProgramOut)
def create_program(data, institution_id):
    require(STAFF, institution_id)
    rt = runtime()
    program = Program(new_id())
    with rt.engine.begin() as conn:
        _row(conn, rm.institutions, institution_id, "institution")
        program.create(institution_id, **data)
        rt.save(conn, program, request_meta(institution_id))
        return _row(conn, rm.programs, program.id, "program")


@blp.route("/institutions/<institution_id>/programs", methods=["GET"])
@blp.response(200, ProgramOut(many=True))
def list_programs(institution_id):
    require(ROLES, institution_id)
    with runtime().engine.connect() as conn:
        return (
            conn.execute(
                sa.select(rm.programs)
                .where(rm.programs.c.institution_id == institution_id)
                .order_by(rm.programs.c.name)
            )
            .mappings()
            .all()
        )


@blp.route("/programs/<program_id>/cycles", methods=["POST"])
@blp.arguments(CycleIn)
@blp.response(201, CycleOut)
def open_cycle(data, program_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        program = rt.load(conn, Program, program_id)
        if not program.exists:
            raise NotFound("No such program.")
        require(STAFF, program.institution_id)
        cycle_id = new_id()
        program.open_cycle(cycle_id, data["name"], data["cross_institution"])
        rt.save(conn, program, request_meta(program.institution_id))
        return _row(conn, rm.cycles, cycle_id, "cycle")


@blp.route("/programs/<program_id>/cycles", methods=["GET"])
@blp.response(200, CycleOut(many=True))
def list_cycles(program_id):
    with runtime().engine.connect() as conn:
        program = _row(conn, rm.programs, program_id, "program")
        require(ROLES, program["institution_id"])
        return (
            conn.execute(
                sa.select(rm.cycles)
                .where(rm.cycles.c.program_id == program_id)
                .order_by(rm.cycles.c.name)
            )
            .mappings()
            .all()
        )


@blp.route("/people", methods=["POST"])
@blp.arguments(PersonIn)
@blp.response(201, PersonOut)
def register_person(data):
    require(STAFF, data["institution_id"])
    rt = runtime()
    person = Person(new_id())
    with rt.engine.begin() as conn:
        _row(conn, rm.institutions, data["institution_id"], "institution")
        email = data["email"].strip().lower()
        if conn.execute(sa.select(rm.people.c.id).where(rm.people.c.email == email)).first():
            raise DomainError("Someone in the consortium already uses this email.", "email")
        person.register(**data)
        rt.save(conn, person, request_meta(data["institution_id"]))
        return _row(conn, rm.people, person.id, "person")


@blp.route("/people", methods=["GET"])
@blp.arguments(PeopleQuery, location="query")
@blp.response(200, PersonOut(many=True))
def list_people(query):
    require(STAFF, query["institution_id"])
    with runtime().engine.connect() as conn:
        return (
            conn.execute(
                sa.select(rm.people)
                .where(rm.people.c.institution_id == query["institution_id"])
                .order_by(rm.people.c.name)
            )
            .mappings()
            .all()
        )


@blp.route("/cycles/<cycle_id>/enrollments", methods=["POST"])
@blp.arguments(EnrollmentIn)
@blp.response(201, EnrollmentOut)
def enroll(data, cycle_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = _row(conn, rm.cycles, cycle_id, "cycle")
        require(STAFF, cycle["institution_id"])
        program = rt.load(conn, Program, cycle["program_id"])
        person = rt.load(conn, Person, data["person_id"])
        duplicate = conn.execute(
            sa.select(rm.enrollments.c.id).where(
                rm.enrollments.c.cycle_id == cycle_id,
                rm.enrollments.c.person_id == data["person_id"],
                rm.enrollments.c.role == data["role"],
            )
        ).first()
        if duplicate:
            raise DomainError(
                f"This person is already a {data['role']} in this cycle.", "person_id"
            )
        enrollment = Enrollment(new_id())
        enrollment.enroll(
            program, cycle_id, person, data["role"], data["interests"], data["capacity"]
        )
        rt.save(conn, enrollment, request_meta(cycle["institution_id"]))
        return _row(conn, rm.enrollments, enrollment.id, "enrollment")


@blp.route("/cycles/<cycle_id>/enrollments", methods=["GET"])
@blp.response(200, EnrollmentOut(many=True))
def list_enrollments(cycle_id):
    with runtime().engine.connect() as conn:
        cycle = _row(conn, rm.cycles, cycle_id, "cycle")
        require(STAFF, cycle["institution_id"])
        return (
            conn.execute(sa.select(rm.enrollments).where(rm.enrollments.c.cycle_id == cycle_id))
            .mappings()
            .all()
        )
