"""People: registering, finding and changing them."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import NotFound
from services.eventkit.access import authorize, consortium, guard
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Resource
from services.eventkit.unit_of_work import UnitOfWork

from .. import readmodels as rm
from ..app import people
from .access import person, row
from .schemas import PeopleQuery, PersonIn, PersonOut, PersonPatch

blp = Blueprint("people", __name__, url_prefix="/api", description="People")


@blp.route("/people", methods=["POST"])
@guard("person.create")
@blp.arguments(PersonIn)
@blp.response(201, PersonOut)
def register_person(data):
    authorize(Resource(data["institution_id"]))
    rt = runtime()
    with rt.engine.begin() as conn:
        person_id = people.register_person(UnitOfWork(conn, rt.store), data, request_meta(None))
        return row(conn, rm.people, person_id, "person")


@blp.route("/people", methods=["GET"])
@guard("person.list")
@blp.arguments(PeopleQuery, location="query")
@blp.response(200, PersonOut(many=True))
def list_people(query):
    """People of an institution; `q` searches names and emails."""
    authorize(Resource(query["institution_id"]))
    p = rm.people
    select = sa.select(p).where(p.c.institution_id == query["institution_id"])
    if query["q"]:
        pattern = f"%{query['q'].lower()}%"
        select = select.where(
            sa.or_(sa.func.lower(p.c.name).like(pattern), p.c.email.like(pattern))
        )
    with runtime().reading() as conn:
        return conn.execute(select.order_by(p.c.name).limit(500)).mappings().all()


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
                    sa.func.lower(p.c.email) == query["email"].strip().lower()
                )
            )
            .mappings()
            .first()
        )
    if found is None:
        raise NotFound("No person has this email.")
    return found


@blp.route("/people/<person_id>", methods=["GET"])
@guard("person.read", person)
@blp.response(200, PersonOut)
def get_person(person_id):
    with runtime().reading() as conn:
        return row(conn, rm.people, person_id, "person")


@blp.route("/people/<person_id>", methods=["PATCH"])
@guard("person.update", person)
@blp.arguments(PersonPatch)
@blp.response(200, PersonOut)
def update_person(data, person_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        people.update_person(UnitOfWork(conn, rt.store), person_id, data, request_meta(None))
        return row(conn, rm.people, person_id, "person")
