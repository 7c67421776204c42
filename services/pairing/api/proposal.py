"""Runs and the draft proposal: run pairing, read the draft, edit it, publish it."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.conditional import revalidate
from services.eventkit.http import request_meta, runtime
from services.eventkit.unit_of_work import UnitOfWork

from ..app import proposal, runs
from ..readmodels import views
from .access import cycle
from .schemas import EditIn, PairOut, ProposalOut, RunIn

blp = Blueprint("proposal", __name__, url_prefix="/api", description="Pairing runs and proposals")


@blp.route("/cycles/<cycle_id>/runs", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.arguments(RunIn)
@blp.response(201, ProposalOut)
def run_pairing(data, cycle_id):
    """Run pairing and get a draft proposal. Pinned pairs and active published pairs are kept;
    excluded people stay out. Runs replace the previous draft."""
    rt = runtime()
    with rt.engine.begin() as conn:
        runs.run_pairing(UnitOfWork(conn, rt.store), cycle_id, data, request_meta(None))
        return views.proposal(conn, cycle_id)


@blp.route("/cycles/<cycle_id>/proposal", methods=["GET"])
@guard("cycle.roster", cycle)
@blp.etag
@blp.response(200, ProposalOut)
def get_proposal(cycle_id):
    with runtime().reading() as conn:
        revalidate(blp, conn)
        return views.proposal(conn, cycle_id)


@blp.route("/cycles/<cycle_id>/proposal/edits", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.arguments(EditIn)
@blp.response(200, ProposalOut)
def edit_proposal(data, cycle_id):
    """Swap, move, unassign, pin, unpin, exclude or include — each with a recorded reason."""
    rt = runtime()
    with rt.engine.begin() as conn:
        proposal.edit_proposal(UnitOfWork(conn, rt.store), cycle_id, data, request_meta(None))
        return views.proposal(conn, cycle_id)


@blp.route("/cycles/<cycle_id>/proposal/publish", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.response(200, PairOut(many=True))
def publish(cycle_id):
    """Publish the draft: its pairs become real and participants are told."""
    rt = runtime()
    with rt.engine.begin() as conn:
        proposal.publish(UnitOfWork(conn, rt.store), cycle_id, request_meta(None))
        return views.cycle_pairs(conn, cycle_id)
