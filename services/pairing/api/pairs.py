"""Published pairs, groups and families: list a cycle's, end one, ask for a rematch (a group's
or family's id goes where a pair's does)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import guard, visible
from services.eventkit.conditional import revalidate
from services.eventkit.http import principal, request_meta, runtime
from services.eventkit.policy import allowed_as
from services.eventkit.unit_of_work import UnitOfWork

from ..app import pairs
from ..readmodels import views
from .access import cycle, in_cycle, pair
from .schemas import PairOut, ReasonIn, RematchIn, UnitOut

blp = Blueprint("pairs", __name__, url_prefix="/api", description="Pairs")


@blp.route("/cycles/<cycle_id>/pairs", methods=["GET"])
@guard("cycle.read", cycle, rows="pair.read")
@blp.etag
@blp.response(200, PairOut(many=True))
def list_pairs(cycle_id):
    """Coordinators see every pair of the cycle; a participant sees their own. A rematch asked
    for reaches the coordinators only: the other member of the pair is not shown it."""
    me = principal().user_id
    with runtime().reading() as conn:
        revalidate(blp, conn)
        found_cycle = views.cycle(conn, cycle_id)
        # Someone who may not read every pair of the cycle reads only their own from the store.
        staff = allowed_as(principal(), "pair.read", in_cycle(found_cycle)) is not None
        found = views.cycle_pairs(conn, cycle_id, None if staff else me)
    shown = visible(
        "pair.read", found, lambda p: in_cycle(found_cycle, p["mentee_id"], p["mentor_id"])
    )
    return [_without_others_rematch(dict(p), me) for p in shown]


def _without_others_rematch(pair: dict, me: str) -> dict:
    if me in (pair["mentee_id"], pair["mentor_id"]) and pair["rematch_requested_by"] not in (
        None,
        me,
    ):
        pair["rematch_requested_by"] = pair["rematch_reason"] = None
    return pair


@blp.route("/cycles/<cycle_id>/units", methods=["GET"])
@guard("cycle.read", cycle, rows="pair.read")
@blp.etag
@blp.response(200, UnitOut(many=True))
def list_units(cycle_id):
    """The cycle's coaching groups or families: coordinators see all; a member sees their own."""
    with runtime().reading() as conn:
        revalidate(blp, conn)
        found_cycle = views.cycle(conn, cycle_id)
        found = views.cycle_units(conn, cycle_id)
    return visible("pair.read", found, lambda u: in_cycle(found_cycle, *u["member_ids"]))


def _ended_or_asked(conn: sa.Connection, cycle_id: str, pair_id: str) -> dict:
    """The pair as it now is, or a group or family as a pair's fields give it."""
    try:
        return views.pair(conn, cycle_id, pair_id)
    except StopIteration:
        return {**views.unit(conn, cycle_id, pair_id), "pair_id": pair_id}


@blp.route("/pairs/<pair_id>/end", methods=["POST"])
@guard("pair.end", pair)
@blp.arguments(ReasonIn)
@blp.response(200, PairOut)
def end_pair(data, pair_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle_id = pairs.end_pair(
            UnitOfWork(conn, rt.store), pair_id, data["reason"], request_meta(None)
        )
        return _ended_or_asked(conn, cycle_id, pair_id)


@blp.route("/pairs/<pair_id>/rematch-request", methods=["POST"])
@guard("pair.take_part", pair)
@blp.arguments(RematchIn)
@blp.response(200, PairOut)
def request_rematch(data, pair_id):
    """A member of the pair asks for a rematch; coordinators see it on the pair."""
    rt = runtime()
    who = principal()
    with rt.engine.begin() as conn:
        cycle_id = pairs.request_rematch(
            UnitOfWork(conn, rt.store), pair_id, who.user_id, data["reason"], request_meta(None)
        )
        return _ended_or_asked(conn, cycle_id, pair_id)
