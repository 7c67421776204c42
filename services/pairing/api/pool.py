"""The candidate pool of a cycle."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import runtime

from ..readmodels import views
from .access import cycle
from .schemas import CandidateOut

blp = Blueprint("pool", __name__, url_prefix="/api", description="Candidate pool")


@blp.route("/cycles/<cycle_id>/candidates", methods=["GET"])
@guard("cycle.roster", cycle)
@blp.response(200, CandidateOut(many=True))
def candidates(cycle_id):
    """The candidate pool of a cycle, as far as enrollment events have arrived."""
    with runtime().reading() as conn:
        return views.candidates(conn, cycle_id)
