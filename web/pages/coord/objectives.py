"""A pair's, group's or family's objectives as a coordinator of the program plans them on the
members' behalf: the participant's own forms (me/objectives), reached from the published pairs."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from ...calls import fetch
from ..blueprints import coord as bp
from ..me.objectives import Desk, change_in, move_in, page, set_in
from ..me.participation import Member, Pair
from ..oversight.common import cycle_with_program
from .catalog import staff_only


def the_pair(pair_id: str | None) -> list[Pair]:
    """The one pair, as the coordinator sees it (403/404 pages when they may not)."""
    rel = fetch("feedback", f"/api/pairs/{pair_id}")
    cycle = cycle_with_program(rel["cycle_id"])
    others = [
        Member(person_id, rel["names"].get(person_id) or "Name not known yet", role)
        for person_id, role in sorted(rel["members"].items(), key=lambda m: m[1] != "mentor")
    ]
    return [
        Pair(
            pair_id=rel["pair_id"], cycle_id=rel["cycle_id"], kind=rel["kind"],
            active=rel["active"], started_on=rel["started_on"], my_role="coordinator",
            program_name=cycle["program_name"], cycle_name=cycle.get("name", ""),
            meeting_expectations="", others=others,
        )
    ]  # fmt: skip


ON_BEHALF = Desk("coord", the_pair)


@bp.get("/pairs/<pair_id>/objectives")
@staff_only
def objectives(pair_id: str) -> ResponseReturnValue:
    return page(ON_BEHALF, pair_id)


@bp.post("/pairs/<pair_id>/objectives")
@staff_only
def set_objective(pair_id: str) -> ResponseReturnValue:
    return set_in(ON_BEHALF, pair_id)


@bp.post("/pairs/<pair_id>/objectives/<objective_id>/move")
@staff_only
def move_objective(pair_id: str, objective_id: str) -> ResponseReturnValue:
    return move_in(ON_BEHALF, pair_id, objective_id)


@bp.post("/pairs/<pair_id>/objectives/<objective_id>/<action>")
@staff_only
def change_objective(pair_id: str, objective_id: str, action: str) -> ResponseReturnValue:
    return change_in(ON_BEHALF, pair_id, objective_id, action)
