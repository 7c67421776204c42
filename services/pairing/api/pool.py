"""The candidate pool of a cycle."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.conditional import revalidate
from services.eventkit.db import one
from services.eventkit.http import runtime

from .. import readmodels as rm
from ..domain import runs
from ..domain.cycle_pairing import CyclePairing
from ..readmodels import views
from ..readmodels.candidate_pool import eligible_mentees
from .access import cycle, enrollment
from .schemas import CandidateOut, EligibleMenteeOut

blp = Blueprint("pool", __name__, url_prefix="/api", description="Candidate pool")


@blp.route("/cycles/<cycle_id>/candidates", methods=["GET"])
@guard("cycle.roster", cycle)
@blp.etag
@blp.response(200, CandidateOut(many=True))
def candidates(cycle_id):
    """The candidate pool of a cycle, as far as enrollment events have arrived."""
    with runtime().reading() as conn:
        revalidate(blp, conn)
        return views.candidates(conn, cycle_id)


@blp.route("/enrollments/<enrollment_id>/eligible-mentees", methods=["GET"])
@guard("enrollment.read", enrollment)
@blp.response(200, EligibleMenteeOut(many=True))
def list_eligible_mentees(enrollment_id):
    """The active mentees a mentor could be paired with under the cycle's rules (those of its
    last run), for the mentor to rank; no goals or self-identification."""
    rt = runtime()
    with rt.reading() as conn:
        found = one(conn, rm.candidates, "enrollment", enrollment_id=enrollment_id)
        the_cycle = views.cycle(conn, found["cycle_id"])
        levels = rt.load(conn, CyclePairing, found["cycle_id"]).level_rules
        settings = views.run_settings(conn, found["cycle_id"])
        rules = runs.rules_for(the_cycle, settings, levels)
        return eligible_mentees(conn, enrollment_id, rules)
