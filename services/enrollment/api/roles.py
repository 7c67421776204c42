"""Staff roles: a person's grants, granting and revoking roles, and who holds them."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import authorize, consortium, guard, people, visible
from services.eventkit.auth import ADMIN, COORDINATOR
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Resource
from services.eventkit.unit_of_work import UnitOfWork

from .. import readmodels as rm
from ..app import roles
from ..readmodels import lookups
from .access import person
from .schemas import GrantIn, GrantOut

blp = Blueprint("roles", __name__, url_prefix="/api", description="Staff roles")


@blp.route("/people/<person_id>/grants", methods=["GET"])
@guard("person.grants", person)
@blp.response(200, GrantOut(many=True))
def list_grants(person_id):
    """Every role the person holds: staff roles, and mentor or mentee in each active enrollment.

    The web mints its service tokens from this.
    """
    with runtime().reading() as conn:
        return lookups.grants(conn, person_id)


def _change_role(data: dict, person_id: str, grant: bool):
    # The role's own scope decides who may grant it: the consortium admin appoints anyone,
    # coordinators appoint within their institution or program, and nobody changes their own.
    institution = None if data["role"] == ADMIN else data["institution_id"]
    authorize(Resource(institution, data["program_id"], parties=people(person_id)))
    rt = runtime()
    with rt.engine.begin() as conn:
        roles.change_role(UnitOfWork(conn, rt.store), person_id, data, grant, request_meta(None))
        return lookups.grants(conn, person_id)


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
