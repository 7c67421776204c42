"""Pairing's HTTP API."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.auth import ADMIN, COORDINATOR
from services.eventkit.http import require, runtime

from . import readmodels as rm

blp = Blueprint("pairing", __name__, url_prefix="/api", description="Pairing")


class CandidateOut(ma.Schema):
    enrollment_id = ma.fields.String()
    person_id = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    training_level = ma.fields.String(allow_none=True)
    role = ma.fields.String()
    interests = ma.fields.List(ma.fields.String())
    capacity = ma.fields.Integer(allow_none=True)


class PoolQuery(ma.Schema):
    institution_id = ma.fields.String(required=True)


@blp.route("/cycles/<cycle_id>/candidates", methods=["GET"])
@blp.arguments(PoolQuery, location="query")
@blp.response(200, CandidateOut(many=True))
def candidates(query, cycle_id):
    """The candidate pool of a cycle, as far as enrollment events have arrived."""
    require((ADMIN, COORDINATOR), query["institution_id"])
    c, p = rm.candidates, rm.people
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(c, p.c.name, p.c.training_level)
                .join(p, p.c.id == c.c.person_id, isouter=True)
                .where(c.c.cycle_id == cycle_id, c.c.institution_id == query["institution_id"])
                .order_by(c.c.role, p.c.name)
            )
            .mappings()
            .all()
        )
