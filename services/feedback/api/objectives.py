"""Objectives of a mentee's action plan: members set them and change their status (every change
kept in its history); members and the coordinators of the cycle's program read them."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import principal, runtime

from ..app import objectives
from ..readmodels import objectives as plans
from . import access
from .context import work
from .schemas import ObjectiveIn, ObjectiveOut, ObjectiveStatusIn

blp = Blueprint("objectives", __name__, url_prefix="/api", description="Objectives")


@blp.route("/pairs/<pair_id>/objectives", methods=["POST"])
@guard("pair.take_part", access.pair)
@blp.arguments(ObjectiveIn)
@blp.response(201, ObjectiveOut)
def set_objective(data, pair_id):
    """An objective of a mentee's action plan, agreed with the mentor."""
    with work() as uow:
        objective_id = objectives.set_objective(uow, pair_id, principal().user_id, **data)
        return plans.objective(uow.conn, objective_id)


@blp.route("/pairs/<pair_id>/objectives", methods=["GET"])
@guard("pair.read", access.pair)
@blp.response(200, ObjectiveOut(many=True))
def list_objectives(pair_id):
    with runtime().reading() as conn:
        return plans.with_history(conn, pair_id=pair_id)


@blp.route("/objectives/<objective_id>/status", methods=["POST"])
@guard("pair.take_part", access.objective)
@blp.arguments(ObjectiveStatusIn)
@blp.response(200, ObjectiveOut)
def update_objective(data, objective_id):
    """Open, in progress, done or dropped, with a note; every change is kept in its history."""
    with work() as uow:
        objectives.update(uow, objective_id, principal().user_id, data["status"], data["note"])
        return plans.objective(uow.conn, objective_id)
