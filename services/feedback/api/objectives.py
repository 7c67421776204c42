"""Objectives of a mentee's action plan: the mentee, their mentor or coach, and the coordinators
of the cycle's program set, edit and reorder them and plan their steps; members comment and the
mentor agrees. Every change is kept in the objective's timeline. Only the mentee, their mentors
and the program's coordinators read them (not the other mentees of a coaching group)."""

from __future__ import annotations

import dataclasses

from flask_smorest import Blueprint

from services.eventkit.access import guard, visible
from services.eventkit.http import principal, runtime

from ..app import objectives
from ..readmodels import objectives as plans
from ..readmodels import roster
from . import access
from .context import work
from .schemas import (
    CommentIn,
    MoveIn,
    ObjectiveEditIn,
    ObjectiveIn,
    ObjectiveOut,
    ObjectiveStatusIn,
    RelationshipOut,
    StepIn,
    StepOut,
)

blp = Blueprint("objectives", __name__, url_prefix="/api", description="Objectives")


@blp.route("/pairs/<pair_id>", methods=["GET"])
@guard("pair.read", access.pair)
@blp.response(200, RelationshipOut)
def get_pair(pair_id):
    """A pair, group or family with its members' names (whose objectives a coordinator plans)."""
    with runtime().reading() as conn:
        rel, _ = roster.relationship(conn, pair_id)
        return {**dataclasses.asdict(rel), "names": roster.names(conn, set(rel.members))}


@blp.route("/pairs/<pair_id>/objectives", methods=["POST"])
@guard("pair.plan", access.pair)
@blp.arguments(ObjectiveIn)
@blp.response(201, ObjectiveOut)
def set_objective(data, pair_id):
    """An objective of a mentee's action plan: its area and a measurable statement."""
    with work() as uow:
        objective_id = objectives.set_objective(uow, pair_id, principal().user_id, **data)
        return plans.objective(uow.conn, objective_id)


@blp.route("/pairs/<pair_id>/objectives", methods=["GET"])
@guard("pair.read", access.pair, rows="pair.read")
@blp.response(200, ObjectiveOut(many=True))
def list_objectives(pair_id):
    """Each mentee's objectives in their order, each with its steps and timeline."""
    with runtime().reading() as conn:
        rel, cycle = roster.relationship(conn, pair_id)
        found = plans.with_history(conn, pair_id=pair_id)
        return visible("pair.read", found, lambda x: access.objective_of(x, rel, cycle))


def _answer(uow, objective_id):
    return plans.objective(uow.conn, objective_id)


@blp.route("/objectives/<objective_id>", methods=["POST"])
@guard("pair.plan", access.objective)
@blp.arguments(ObjectiveEditIn)
@blp.response(200, ObjectiveOut)
def edit_objective(data, objective_id):
    """A new area, statement, description or due date; the mentor agrees it again."""
    with work() as uow:
        objectives.edit(uow, objective_id, principal().user_id, **data)
        return _answer(uow, objective_id)


@blp.route("/objectives/<objective_id>/status", methods=["POST"])
@guard("pair.plan", access.objective)
@blp.arguments(ObjectiveStatusIn)
@blp.response(200, ObjectiveOut)
def update_objective(data, objective_id):
    """Open, in progress, done or dropped, with a note; every change is kept in its history."""
    with work() as uow:
        objectives.update(uow, objective_id, principal().user_id, data["status"], data["note"])
        return _answer(uow, objective_id)


@blp.route("/objectives/<objective_id>/steps", methods=["POST"])
@guard("pair.plan", access.objective)
@blp.arguments(StepIn)
@blp.response(200, StepOut)
def plan_step(data, objective_id):
    """A step of the action plan (with a due date and a status), added or (given its step_id)
    changed."""
    with work() as uow:
        step_id = objectives.plan_step(uow, objective_id, principal().user_id, **data)
        return {"step_id": step_id, "objective": _answer(uow, objective_id)}


@blp.route("/objectives/<objective_id>/comments", methods=["POST"])
@guard("pair.plan", access.objective)
@blp.arguments(CommentIn)
@blp.response(200, ObjectiveOut)
def comment_objective(data, objective_id):
    with work() as uow:
        objectives.comment(uow, objective_id, principal().user_id, data["text"])
        return _answer(uow, objective_id)


@blp.route("/objectives/<objective_id>/agree", methods=["POST"])
@guard("pair.plan", access.objective)
@blp.response(200, ObjectiveOut)
def agree_objective(objective_id):
    """The mentor or coach agrees the objective and its action plan as they stand."""
    with work() as uow:
        objectives.agree(uow, objective_id, principal().user_id)
        return _answer(uow, objective_id)


@blp.route("/objectives/<objective_id>/move", methods=["POST"])
@guard("pair.plan", access.objective)
@blp.arguments(MoveIn)
@blp.response(200, ObjectiveOut(many=True))
def move_objective(data, objective_id):
    """Up (-1) or down (+1) in the mentee's list; the mentee's objectives in their new order."""
    with work() as uow:
        objectives.move(uow, objective_id, principal().user_id, data["offset"])
        moved = plans.objective(uow.conn, objective_id)
        return plans.with_history(uow.conn, pair_id=moved["pair_id"], mentee_id=moved["mentee_id"])
