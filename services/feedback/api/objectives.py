"""Objectives of a mentee's action plan: members set them and change their status (every change
kept in its history); members and the coordinators of the cycle's program read them."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import NotFound
from services.eventkit.access import guard
from services.eventkit.envelope import new_id
from services.eventkit.http import principal, request_meta, runtime

from .. import access, relationships
from .. import readmodels as rm
from ..domain.objectives import Objective
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
    rt = runtime()
    with rt.engine.begin() as conn:
        rel, cycle = relationships.relationship(conn, pair_id)
        me = principal().user_id
        mentee_id = data.pop("mentee_id") or (
            me if rel.role_of(me) == "mentee" else (rel.mentees[0] if len(rel.mentees) == 1 else "")
        )
        objective = Objective(new_id())
        objective.set(rel, mentee_id, by=me, **data)
        rt.save(conn, objective, request_meta(cycle["institution_id"]))
        return _objectives(conn, objective_id=objective.id)[0]


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
    rt = runtime()
    with rt.engine.begin() as conn:
        found = _objectives(conn, objective_id=objective_id)
        if not found:
            raise NotFound("No such objective.")
        rel, cycle = relationships.relationship(conn, found[0]["pair_id"])
        me = principal().user_id
        objective = rt.load(conn, Objective, objective_id)
        objective.update(rel, data["status"], me, data["note"])
        rt.save(conn, objective, request_meta(cycle["institution_id"]))
        return _objectives(conn, objective_id=objective_id)[0]
