"""Mentee choice: open a round, list requests, a mentor's answer, expire what is past due."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit.access import guard, visible
from services.eventkit.http import request_meta, runtime
from services.eventkit.unit_of_work import UnitOfWork

from ..app import choice
from ..readmodels import views
from .access import cycle, in_cycle, request_to_mentor
from .schemas import ChoiceRoundIn, DeclineIn, RequestOut

blp = Blueprint("choice", __name__, url_prefix="/api", description="Mentee choice")


@blp.route("/cycles/<cycle_id>/choice-rounds", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.arguments(ChoiceRoundIn)
@blp.response(201, RequestOut(many=True))
def open_choice_round(data, cycle_id):
    """Mentee choice: each mentee's request goes to their first ranked mentor the rules allow.
    A mentor accepts or declines before the deadline; a declined, unanswered or full request
    moves on to the mentee's next choice."""
    rt = runtime()
    with rt.engine.begin() as conn:
        round_id = choice.open_choice_round(
            UnitOfWork(conn, rt.store), cycle_id, data["response_hours"], data["min_level_gap"],
            request_meta(None),
        )  # fmt: skip
        return [x for x in views.cycle_requests(conn, cycle_id) if x["round_id"] == round_id]


@blp.route("/cycles/<cycle_id>/requests", methods=["GET"])
@guard("cycle.read", cycle, rows="request.read")
@blp.response(200, RequestOut(many=True))
def list_requests(cycle_id):
    """Coordinators see every request of the cycle; a participant sees their own."""
    with runtime().reading() as conn:
        found_cycle = views.cycle(conn, cycle_id)
        found = views.cycle_requests(conn, cycle_id)
    return visible(
        "request.read", found, lambda r: in_cycle(found_cycle, r["mentee_id"], r["mentor_id"])
    )


def _answer(request_id: str, accept: bool, reason: str):
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle_id = choice.answer_request(
            UnitOfWork(conn, rt.store), request_id, accept, reason, request_meta(None)
        )
        return next(
            x for x in views.cycle_requests(conn, cycle_id) if x["request_id"] == request_id
        )


@blp.route("/requests/<request_id>/accept", methods=["POST"])
@guard("request.answer", request_to_mentor)
@blp.response(200, RequestOut)
def accept_request(request_id):
    return _answer(request_id, True, "")


@blp.route("/requests/<request_id>/decline", methods=["POST"])
@guard("request.answer", request_to_mentor)
@blp.arguments(DeclineIn)
@blp.response(200, RequestOut)
def decline_request(data, request_id):
    return _answer(request_id, False, data["reason"])


@blp.route("/cycles/<cycle_id>/choice-rounds/expire", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.response(200, RequestOut(many=True))
def expire_requests(cycle_id):
    """Move on every request past its deadline now (the worker also does this every 30 s)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        choice.expire_due(UnitOfWork(conn, rt.store), cycle_id)
    with rt.reading() as conn:
        return views.cycle_requests(conn, cycle_id)
