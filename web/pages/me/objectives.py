"""Objectives and action plans: a mentee sets and plans their own; their mentor or coach plans
them with them, comments and agrees them; a coordinator of the program plans them on the members'
behalf from the pair's own page (`Desk`). With htmx each change to an objective swaps only that
objective (its timeline too); without it the page reloads at the objective."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, request
from flask.typing import ResponseReturnValue

from services.eventkit.contracts.feedback import OBJECTIVE_AREAS, OBJECTIVE_STATUSES, STEP_STATUSES

from ...calls import call, fetch_or
from ...identity import roles_required
from ...rendering import render, wants_fragment
from ..blueprints import me as bp
from .labels import AREA_LABELS, PARTICIPANTS, STEP_LABELS
from .participation import Pair, back_to, find, my_pairs, refused, signed_in

# What each form of an objective sends, and how the feedback service takes it.
ACTIONS = {
    "edit": ("", ("area", "title", "description", "due_date")),
    "status": ("/status", ("status", "note")),
    "step": ("/steps", ("step_id", "text", "due_date", "status")),
    "comment": ("/comments", ("text",)),
    "agree": ("/agree", ()),
}
DONE = {
    "edit": "The objective is saved.",
    "status": "The objective's status is saved.",
    "step": "The action plan is saved.",
    "comment": "Your comment is added.",
    "agree": "You agreed this objective.",
}


def _body(form: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The form's fields as the service takes them: blank optional values left out."""
    body = {f: form.get(f, "").strip() for f in fields}
    return {k: v for k, v in body.items() if v or k in ("title", "text")}


def _names(pair: Pair) -> dict[str, str]:
    names = {m.person_id: m.name for m in pair.others}
    names[signed_in().person_id] = "You"
    return names


def _mentees(pair: Pair) -> list[tuple[str, str]]:
    """The mentees whose objectives the person plans in this pair: (id, name)."""
    me = signed_in().person_id
    if pair.my_role == "mentee":
        return [(me, "You")]
    return [(m.person_id, m.name) for m in pair.others if m.role == "mentee"]


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "me": signed_in().person_id,
        "areas": [(a, AREA_LABELS.get(a, a)) for a in OBJECTIVE_AREAS],
        "area_labels": AREA_LABELS,
        "statuses": [(s, s.replace("_", " ").capitalize()) for s in OBJECTIVE_STATUSES],
        "step_statuses": [(s, STEP_LABELS[s]) for s in STEP_STATUSES],
        "step_labels": STEP_LABELS,
        **extra,
    }


@dataclasses.dataclass(frozen=True)
class Desk:
    """Where objectives are planned from: a participant's own page ("me", their pairs) or a
    coordinator's page of one pair ("coord", on the members' behalf)."""

    blueprint: str
    pairs: Callable[[str | None], list[Pair]]  # the pairs shown (one, when an id is given)

    def back(self, pair_id: str, anchor: str) -> Response:
        where = {"pair_id": pair_id} if self.blueprint != "me" else {}
        return back_to(f"{self.blueprint}.objectives", anchor, **where)


def page(
    desk: Desk,
    pair_id: str | None = None,
    status: int = 200,
    errors: dict[str, dict[str, str]] | None = None,
    values: dict[str, dict] | None = None,
) -> ResponseReturnValue:
    pairs = desk.pairs(pair_id)
    plans = {
        p.pair_id: fetch_or("feedback", f"/api/pairs/{p.pair_id}/objectives", []) for p in pairs
    }
    return render(
        "me/objectives.html",
        status=status,
        **_context(
            desk=desk.blueprint,
            pairs=pairs,
            plans=plans,
            mentees={p.pair_id: _mentees(p) for p in pairs},
            names={p.pair_id: _names(p) for p in pairs},
            errors=errors or {},
            values=values or {},
        ),
    )


def set_in(desk: Desk, pair_id: str) -> ResponseReturnValue:
    pair = find([p for p in desk.pairs(pair_id) if p.active], "pair_id", pair_id)
    body = _body(request.form, ("mentee_id", "area", "title", "description", "due_date"))
    reply = call("feedback", "POST", f"/api/pairs/{pair_id}/objectives", json=body)
    if reply.ok:
        flash(f"The objective “{reply.body['title']}” is recorded. Now plan its first steps.")
        return desk.back(pair_id, f"objective-{reply.body['objective_id']}")
    return page(desk, pair_id, 422, {pair.pair_id: refused(reply)}, {pair.pair_id: body})


def move_in(desk: Desk, pair_id: str, objective_id: str) -> ResponseReturnValue:
    find(desk.pairs(pair_id), "pair_id", pair_id)
    offset = -1 if request.form.get("offset") == "up" else 1
    reply = call(
        "feedback", "POST", f"/api/objectives/{objective_id}/move", json={"offset": offset}
    )
    if not reply.ok:
        return page(desk, pair_id, 422, {pair_id: refused(reply)})
    flash("The objective moved " + ("up." if offset < 0 else "down."))
    return desk.back(pair_id, f"objective-{objective_id}")


def change_in(desk: Desk, pair_id: str, objective_id: str, action: str) -> ResponseReturnValue:
    """One form of an objective: its statement, status, a step, a comment or the agreement."""
    if action not in ACTIONS:
        abort(404)
    suffix, fields = ACTIONS[action]
    pair = find(desk.pairs(pair_id), "pair_id", pair_id)
    plans = fetch_or("feedback", f"/api/pairs/{pair_id}/objectives", [])
    objective = find(plans, "objective_id", objective_id)
    order = [o["objective_id"] for o in plans if o["mentee_id"] == objective["mentee_id"]]
    body = _body(request.form, fields)
    reply = call("feedback", "POST", f"/api/objectives/{objective_id}{suffix}", json=body)
    if reply.ok and not wants_fragment():
        flash(DONE[action])
        return desk.back(pair_id, f"objective-{objective_id}")
    errors, status = ({}, 200) if reply.ok else ({action: refused(reply)}, 422)
    if reply.ok:
        objective = reply.body.get("objective", reply.body)
    elif not wants_fragment():
        return page(desk, pair_id, 422, {objective_id: errors}, {objective_id: {action: body}})
    return render(
        "me/_objective.html",
        status=status,
        **_context(
            desk=desk.blueprint,
            o=objective,
            p=pair,
            names=_names(pair),
            first=order[0] == objective_id,
            last=order[-1] == objective_id,
            card_errors=errors,
            card_values={action: body} if errors else {},
            news="" if errors else DONE[action],
        ),
    )


MINE = Desk("me", lambda pair_id: my_pairs())


@bp.get("/objectives")
@roles_required(*PARTICIPANTS)
def objectives() -> ResponseReturnValue:
    return page(MINE)


@bp.post("/objectives/<pair_id>")
@roles_required(*PARTICIPANTS)
def set_objective(pair_id: str) -> ResponseReturnValue:
    return set_in(MINE, pair_id)


@bp.post("/objectives/<pair_id>/<objective_id>/move")
@roles_required(*PARTICIPANTS)
def move_objective(pair_id: str, objective_id: str) -> ResponseReturnValue:
    return move_in(MINE, pair_id, objective_id)


@bp.post("/objectives/<pair_id>/<objective_id>/<action>")
@roles_required(*PARTICIPANTS)
def change_objective(pair_id: str, objective_id: str, action: str) -> ResponseReturnValue:
    return change_in(MINE, pair_id, objective_id, action)
