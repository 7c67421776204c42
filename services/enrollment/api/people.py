"""People, their profiles and staff roles."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import DomainError, NotFound, rls
from services.eventkit.access import authorize, consortium, guard, people, visible
from services.eventkit.auth import ADMIN, COORDINATOR
from services.eventkit.envelope import new_id
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Resource

from .. import readmodels as rm
from ..domain import Person
from . import access
from .access import row
from .schemas import GrantIn, GrantOut, PeopleQuery, PersonIn, PersonOut, PersonPatch

blp = Blueprint("people", __name__, url_prefix="/api", description="People and staff roles")


def email_taken(conn: sa.Connection, email: str) -> bool:
    """Emails are unique in the consortium: look beyond the caller's institutions."""
    with rls.unrestricted(conn):
        found = conn.execute(
            sa.select(rm.people.c.id).where(rm.people.c.email == email.strip().lower())
        ).first()
    return found is not None


@blp.route("/people", methods=["POST"])
@guard("person.create")
@blp.arguments(PersonIn)
@blp.response(201, PersonOut)
def register_person(data):
    authorize(Resource(data["institution_id"]))
    rt = runtime()
    person = Person(new_id())
    with rt.engine.begin() as conn:
        row(conn, rm.institutions, data["institution_id"], "institution")
        if email_taken(conn, data["email"]):
            raise DomainError("Someone in the consortium already uses this email.", "email")
        person.register(**data)
        rt.save(conn, person, request_meta(data["institution_id"]))
        return row(conn, rm.people, person.id, "person")


@blp.route("/people", methods=["GET"])
@guard("person.list")
@blp.arguments(PeopleQuery, location="query")
@blp.response(200, PersonOut(many=True))
def list_people(query):
    """People of an institution; `q` searches names and emails."""
    authorize(Resource(query["institution_id"]))
    people = rm.people
    select = sa.select(people).where(people.c.institution_id == query["institution_id"])
    if query["q"]:
        pattern = f"%{query['q'].lower()}%"
        select = select.where(
            sa.or_(sa.func.lower(people.c.name).like(pattern), people.c.email.like(pattern))
        )
    with runtime().reading() as conn:
        return conn.execute(select.order_by(people.c.name).limit(500)).mappings().all()


class EmailQuery(ma.Schema):
    email = ma.fields.Email(required=True, validate=ma.validate.Length(max=254))


class PersonFound(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    institution_id = ma.fields.String()
    email = ma.fields.String()


@blp.route("/people/by-email", methods=["GET"])
@guard("person.lookup")
@blp.arguments(EmailQuery, location="query")
@blp.response(200, PersonFound)
def find_person_by_email(query):
    """The person with this email, for the web's sign-in and account set-up (system only)."""
    authorize(consortium())
    p = rm.people
    with runtime().reading() as conn:
        found = (
            conn.execute(
                sa.select(p.c.id, p.c.name, p.c.institution_id, p.c.email).where(
                    p.c.email == query["email"].strip().lower()
                )
            )
            .mappings()
            .first()
        )
    if found is None:
        raise NotFound("No person has this email.")
    return found


@blp.route("/people/<person_id>", methods=["GET"])
@guard("person.read", access.person)
@blp.response(200, PersonOut)
def get_person(person_id):
    with runtime().reading() as conn:
        return row(conn, rm.people, person_id, "person")


@blp.route("/people/<person_id>", methods=["PATCH"])
@guard("person.update", access.person)
@blp.arguments(PersonPatch)
@blp.response(200, PersonOut)
def update_person(data, person_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        person = rt.load(conn, Person, person_id)
        person.update(**data)
        rt.save(conn, person, request_meta(person.institution_id))
        return row(conn, rm.people, person_id, "person")


@blp.route("/people/<person_id>/grants", methods=["GET"])
@guard("person.grants", access.person)
@blp.response(200, GrantOut(many=True))
def list_grants(person_id):
    """Every role the person holds: staff roles, and mentor or mentee in each active enrollment.

    The web mints its service tokens from this.
    """
    with runtime().reading() as conn:
        return _grants(conn, person_id)


def _grants(conn: sa.Connection, person_id: str) -> list:
    e = rm.enrollments
    staff = (
        conn.execute(
            sa.select(
                rm.staff_roles.c.role, rm.staff_roles.c.institution_id, rm.staff_roles.c.program_id
            ).where(rm.staff_roles.c.person_id == person_id)
        )
        .mappings()
        .all()
    )
    taking_part = (
        conn.execute(
            sa.select(e.c.role, e.c.institution_id, e.c.program_id)
            .where(e.c.person_id == person_id, e.c.status == "active")
            .distinct()
        )
        .mappings()
        .all()
    )
    return [*staff, *taking_part]


def _change_role(data: dict, person_id: str, grant: bool):
    # The role's own scope decides who may grant it: the consortium admin appoints anyone,
    # coordinators appoint within their institution or program, and nobody changes their own.
    institution = None if data["role"] == ADMIN else data["institution_id"]
    authorize(Resource(institution, data["program_id"], parties=people(person_id)))
    rt = runtime()
    with rt.engine.begin() as conn:
        person = rt.load(conn, Person, person_id)
        if not person.exists:
            raise NotFound("No such person.")
        if data["institution_id"] and data["institution_id"] != person.institution_id:
            raise DomainError(
                "Staff roles are held at the person's own institution.", "institution_id"
            )
        if data["program_id"]:
            program = row(conn, rm.programs, data["program_id"], "program")
            if program["institution_id"] != data["institution_id"]:
                raise DomainError("The program belongs to another institution.", "program_id")
        if grant:
            person.grant(data["role"], data["institution_id"], data["program_id"])
        else:
            person.revoke(data["role"], data["institution_id"], data["program_id"])
        rt.save(conn, person, request_meta(person.institution_id))
        return _grants(conn, person_id)


@blp.route("/people/<person_id>/roles", methods=["POST"])
@guard("role.grant")
@blp.arguments(GrantIn)
@blp.response(200, GrantOut(many=True))
def grant_role(data, person_id):
    """Grant a staff role (coordinator of an institution or program, or consortium admin)."""
    return _change_role(data, person_id, grant=True)


@blp.route("/people/<person_id>/roles/revoke", methods=["POST"])
@guard("role.grant")
@blp.arguments(GrantIn)
@blp.response(200, GrantOut(many=True))
def revoke_role(data, person_id):
    return _change_role(data, person_id, grant=False)


class StaffQuery(ma.Schema):
    institution_id = ma.fields.String(load_default=None)
    role = ma.fields.String(load_default=None, validate=ma.validate.OneOf((COORDINATOR, ADMIN)))


class StaffOut(ma.Schema):
    person_id = ma.fields.String()
    name = ma.fields.String()
    email = ma.fields.String()
    role = ma.fields.String()
    institution_id = ma.fields.String(allow_none=True)
    program_id = ma.fields.String(allow_none=True)


@blp.route("/staff", methods=["GET"])
@guard("institution.staff", rows="staff.read")
@blp.arguments(StaffQuery, location="query")
@blp.response(200, StaffOut(many=True))
def list_staff(query):
    """Who holds staff roles: everyone's for the consortium admin, one institution's for its
    coordinators (`institution_id` then required)."""
    authorize(Resource(query["institution_id"]) if query["institution_id"] else consortium())
    s, p = rm.staff_roles, rm.people
    select = sa.select(
        s.c.person_id, p.c.name, p.c.email, s.c.role, s.c.institution_id, s.c.program_id
    ).join(p, p.c.id == s.c.person_id)
    if query["institution_id"]:
        select = select.where(s.c.institution_id == query["institution_id"])
    if query["role"]:
        select = select.where(s.c.role == query["role"])
    with runtime().reading() as conn:
        found = conn.execute(select.order_by(s.c.institution_id, p.c.name)).mappings().all()
    return visible("staff.read", found, lambda r: Resource(r["institution_id"], r["program_id"]))
