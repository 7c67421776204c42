"""How to reach the people one shares a pair or coaching group with."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import runtime

from ..readmodels.tables import pair_members, recipients
from .access import person
from .schemas import ContactOut

blp = Blueprint("contacts", __name__, url_prefix="/api", description="Pair contacts")


@blp.route("/people/<person_id>/pair-contacts", methods=["GET"])
@guard("person.contacts", person)
@blp.response(200, ContactOut(many=True))
def pair_contacts(person_id):
    """How to reach the people you share a pair or coaching group with (the addresses the
    pairing notice gave you): for that person only."""
    m, r = pair_members, recipients
    mine = sa.select(m.c.pair_id).where(m.c.person_id == person_id)
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(m.c.pair_id, m.c.person_id, r.c.name, r.c.email)
                .join(r, r.c.id == m.c.person_id)
                .where(m.c.pair_id.in_(mine), m.c.person_id != person_id)
                .order_by(m.c.pair_id, r.c.name)
            )
            .mappings()
            .all()
        )
