"""Mentees rank the mentors of their cycles; with htmx each move saves at once and keeps focus."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flask import flash, request
from flask.typing import ResponseReturnValue

from ...calls import call, fetch_or
from ...identity import roles_required
from ...rendering import render, wants_fragment
from ..blueprints import me as bp
from .labels import MAX_RANKED, MENTEE
from .participation import active_enrollments, back_to, find, refused


@dataclasses.dataclass
class Ranking:
    """One mentee enrollment's ranking form."""

    enrollment: dict
    mentors: list[dict]
    order: list[str]
    chosen: dict[str, str] | None = None  # the rank numbers as submitted, when refused
    error: str = ""
    saved: bool = False

    @property
    def id(self) -> str:
        return self.enrollment["id"]

    @property
    def ranked(self) -> list[dict]:
        by_id = {m["id"]: m for m in self.mentors}
        return [by_id[i] for i in self.order if i in by_id]

    @property
    def unranked(self) -> list[dict]:
        return [m for m in self.mentors if m["id"] not in self.order]

    @property
    def choices(self) -> int:
        return min(len(self.mentors), MAX_RANKED)

    def rank_of(self, mentor_id: str) -> str:
        if self.chosen is not None:
            return self.chosen.get(mentor_id, "")
        shown = [m["id"] for m in self.ranked]  # a withdrawn mentor leaves no gap
        return str(shown.index(mentor_id) + 1) if mentor_id in shown else ""


def parse_ranks(form: Mapping[str, Any], known: list[str]) -> tuple[list[str], str]:
    """The mentors in the order of the rank numbers chosen (gaps allowed), or why not."""
    picked: list[tuple[int, str]] = []
    for mentor_id in known:
        raw = (form.get(f"rank-{mentor_id}") or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or int(raw) < 1:
            return [], "Ranks are whole numbers, 1 for your first choice."
        picked.append((int(raw), mentor_id))
    numbers = [n for n, _ in picked]
    if len(numbers) != len(set(numbers)):
        return [], "Give each rank number to one mentor only."
    return [mentor_id for _, mentor_id in sorted(picked)], ""


def apply_move(order: list[str], known: list[str], move: str) -> list[str]:
    """The order after one button: "up:<id>", "down:<id>", "add:<id>" or "remove:<id>"."""
    action, _, mentor_id = move.partition(":")
    order = list(order)
    if mentor_id not in known:
        return order
    if action == "add" and mentor_id not in order:
        order.append(mentor_id)
    elif action == "remove" and mentor_id in order:
        order.remove(mentor_id)
    elif action in ("up", "down") and mentor_id in order:
        i = order.index(mentor_id)
        j = i - 1 if action == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    return order


def focus_after(move: str, order: list[str], enrollment_id: str) -> str:
    """The id of the control to keep keyboard focus on after a move: the same button if it is
    still there, else the mentor's rank choice (or "add" once removed)."""
    action, _, mentor_id = move.partition(":")
    where = order.index(mentor_id) if mentor_id in order else None
    suffix = f"{enrollment_id}-{mentor_id}"
    if where is None:
        return f"add-{suffix}"
    if (action == "up" and where > 0) or (action == "down" and where < len(order) - 1):
        return f"{action}-{suffix}"
    return f"rank-{suffix}"


@bp.route("/ranking", methods=["GET", "POST"])
@roles_required(MENTEE)
def ranking() -> ResponseReturnValue:
    rankings = [
        Ranking(e, fetch_or("enrollment", f"/api/cycles/{e['cycle_id']}/mentors", []), list(e["ranking"] or []))
        for e in active_enrollments(MENTEE)
    ]  # fmt: skip
    status, focus, announce = 200, "", ""
    if request.method == "POST":
        form = find(rankings, "id", request.form.get("enrollment_id"))
        known = [m["id"] for m in form.mentors]
        order, problem = parse_ranks(request.form, known)
        move = request.form.get("move", "")
        if problem:  # keep the numbers as typed, to correct them
            form.chosen = {k: (request.form.get(f"rank-{k}") or "") for k in known}
        else:
            order = apply_move(order, known, move) if move else order
            body = {"mentor_enrollment_ids": order}
            reply = call("enrollment", "PUT", f"/api/enrollments/{form.id}/ranking", json=body)
            if reply.ok and not wants_fragment():
                flash("Your ranking is saved.")
                return back_to("me.ranking", f"ranking-{form.id}")
            if reply.ok:
                form.order, form.saved = list(reply.body["ranking"] or []), True
                focus = focus_after(move, form.order, form.id) if move else ""
                announce = ranking_news(form, move) if move else ""  # else the notice has focus
            else:
                errors = refused(reply)
                problem = errors.get("mentor_enrollment_ids") or errors.get("_form", "")
                form.order = order
        if problem:
            form.error, status = problem, 422
    return render(
        "me/ranking.html",
        fragment="rankings",
        status=status,
        rankings=rankings,
        focus=focus,
        announce=announce,
        oob=wants_fragment(),
        max_ranked=MAX_RANKED,
    )


def ranking_news(form: Ranking, move: str) -> str:
    """What a screen reader hears after a saved change."""
    mentor_id = move.partition(":")[2]
    name = next((m["name"] for m in form.mentors if m["id"] == mentor_id), "")
    if not name:
        return "Your ranking is saved."
    shown = [m["id"] for m in form.ranked]
    if mentor_id not in shown:
        return f"{name} is no longer ranked. Your ranking is saved."
    return f"{name} is now number {shown.index(mentor_id) + 1}. Your ranking is saved."
