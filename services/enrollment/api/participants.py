"""What a person's own pages show: their enrollments with cycle and program, and the card others
see of them."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import rls
from services.eventkit.access import authorize, guard, people, visible
from services.eventkit.http import principal, runtime
from services.eventkit.policy import Resource

from .. import readmodels as rm
from .access import enrollment_of, person, row
from .schemas import EnrollmentOut

blp = Blueprint("participants", __name__, url_prefix="/api", description="A person's own pages")


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
@guard("person.enrollments", person, rows="enrollment.read")
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
