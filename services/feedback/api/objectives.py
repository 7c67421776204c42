"""Objectives of a mentee's action plan: members set them and change their status (every change
kept in its history); members and the coordinators of the cycle's program read them."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import principal, runtime

from .. import access
from .. import readmodels as rm
from ..app import objectives
from .context import work
from .schemas import ObjectiveIn, ObjectiveOut, ObjectiveStatusIn

blp = Blueprint("objectives", __name__, url_prefix="/api", description="Objectives")


def _objectives(conn: sa.Connection, **where) -> list[dict]:
    o, h = rm.objectives, rm.objective_history
    query = sa.select(o).order_by(o.c.set_at)
    for column, value in where.items():
        query = query.where(o.c[column] == value)
    rows = conn.execute(query).mappings().all()
    history: dict[str, list] = {}
    if rows:
        for entry in conn.execute(
            sa.select(h)
            .where(h.c.objective_id.in_([r["objective_id"] for r in rows]))
            .order_by(h.c.changed_at)
        ).mappings():
            history.setdefault(entry["objective_id"], []).append(entry)
    return [{**r, "history": history.get(r["objective_id"], [])} for r in rows]


@blp.route("/pairs/<pair_id>/objectives", methods=["POST"])
@guard("pair.take_part", access.pair)
@blp.arguments(ObjectiveIn)
@blp.response(201, ObjectiveOut)
def set_objective(data, pair_id):
    """An objective of a mentee's action plan, agreed with the mentor."""
    with work() as uow:
        objective_id = objectives.set_objective(uow, pair_id, principal().user_id, **data)
        return _objectives(uow.conn, objective_id=objective_id)[0]


@blp.route("/pairs/<pair_id>/objectives", methods=["GET"])
@guard("pair.read", access.pair)
@blp.response(200, ObjectiveOut(many=True))
def list_objectives(pair_id):
    with runtime().reading() as conn:
        return _objectives(conn, pair_id=pair_id)


@blp.route("/objectives/<objective_id>/status", methods=["POST"])
@guard("pair.take_part", access.objective)
@blp.arguments(ObjectiveStatusIn)
@blp.response(200, ObjectiveOut)
def update_objective(data, objective_id):
    """Open, in progress, done or dropped, with a note; every change is kept in its history."""
    with work() as uow:
        objectives.update(uow, objective_id, principal().user_id, data["status"], data["note"])
        return _objectives(uow.conn, objective_id=objective_id)[0]
