"""Both sides rank: mentees rank the mentors of their cycles, mentors rank the mentees they could
be paired with (and may mark some as not acceptable). With htmx each move saves at once and
keeps focus; the rank choices and Save work without JavaScript."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from flask import flash, request
from flask.typing import ResponseReturnValue

from ...calls import call, fetch_or, seg
from ...client import Reply
from ...identity import roles_required
from ...rendering import render, wants_fragment
from ..blueprints import me as bp
from .labels import MAX_RANKED, MAX_RANKED_MENTEES, MENTEE, MENTOR
from .participation import active_enrollments, back_to, find, refused


@dataclasses.dataclass
class Ranking:
    """One enrollment's ranking form."""

    enrollment: dict
    mentors: list[dict]  # the people to rank (mentors, or a mentor's mentees), each with an id
    order: list[str]
    chosen: dict[str, str] | None = None  # the rank numbers as submitted, when refused
    error: str = ""
    saved: bool = False
    limit: int = MAX_RANKED
    refused: list[str] = dataclasses.field(default_factory=list)  # not acceptable (mentors')

    @property
    def id(self) -> str:
        return self.enrollment["id"]

    @property
    def ranked(self) -> list[dict]:
        by_id = {m["id"]: m for m in self.mentors}
        return [by_id[i] for i in self.order if i in by_id]

    @property
    def unranked(self) -> list[dict]:
        return [m for m in self.mentors if m["id"] not in self.order + self.refused]

    @property
    def not_acceptable(self) -> list[dict]:
        return [m for m in self.mentors if m["id"] in self.refused]

    @property
    def choices(self) -> int:
        return min(len(self.mentors), self.limit)

    def rank_of(self, mentor_id: str) -> str:
        if self.chosen is not None:
            return self.chosen.get(mentor_id, "")
        shown = [m["id"] for m in self.ranked]  # a withdrawn mentor leaves no gap
        return str(shown.index(mentor_id) + 1) if mentor_id in shown else ""


@dataclasses.dataclass(frozen=True)
class Side:
    """What differs between a mentee ranking mentors and a mentor ranking mentees."""

    role: str
    endpoint: str
    field: str  # the API field the ranking goes in, where its errors come back
    limit: int
    people: Callable[[dict], list[dict]]  # the enrollment's people to rank
    save: Callable[[Ranking, list[str], list[str]], Reply]  # (form, order, not acceptable)
    words: Mapping[str, str]


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
        return [], "Give each rank number to one person only."
    return [mentor_id for _, mentor_id in sorted(picked)], ""


def apply_move(order: list[str], known: list[str], move: str) -> list[str]:
    """The order after one button: "up:<id>", "down:<id>", "add:<id>" or "remove:<id>"."""
    action, _, mentor_id = move.partition(":")
    order = list(order)
    if mentor_id not in known:
        return order
    if action == "add" and mentor_id not in order:
        order.append(mentor_id)
    elif action in ("remove", "refuse") and mentor_id in order:
        order.remove(mentor_id)
    elif action in ("up", "down") and mentor_id in order:
        i = order.index(mentor_id)
        j = i - 1 if action == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
    return order


def apply_refusal(refused: list[str], known: list[str], move: str) -> list[str]:
    """The not-acceptable list after "refuse:<id>" or "accept:<id>" (other moves keep it)."""
    action, _, person_id = move.partition(":")
    kept = [p for p in refused if p in known and p != person_id]
    return [*kept, person_id] if action == "refuse" and person_id in known else kept


def focus_after(move: str, order: list[str], enrollment_id: str) -> str:
    """The id of the control to keep keyboard focus on after a move: the same button if it is
    still there, else the mentor's rank choice (or "add" once removed, "accept" once refused)."""
    action, _, mentor_id = move.partition(":")
    where = order.index(mentor_id) if mentor_id in order else None
    suffix = f"{enrollment_id}-{mentor_id}"
    if action == "refuse":
        return f"accept-{suffix}"
    if where is None:
        return f"add-{suffix}"
    if (action == "up" and where > 0) or (action == "down" and where < len(order) - 1):
        return f"{action}-{suffix}"
    return f"rank-{suffix}"


def _rank(side: Side) -> ResponseReturnValue:
    rankings = [
        Ranking(e, side.people(e), list(e["ranking"] or []), limit=side.limit,
                refused=list(e.get("not_acceptable") or []))
        for e in active_enrollments(side.role)
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
            not_acceptable = apply_refusal(form.refused, known, move)
            reply = side.save(form, order, not_acceptable)
            if reply.ok and not wants_fragment():
                flash("Your ranking is saved.")
                return back_to(side.endpoint, f"ranking-{form.id}")
            if reply.ok:
                form.order, form.saved = list(reply.body["ranking"] or []), True
                form.refused = list(reply.body.get("not_acceptable") or [])
                focus = focus_after(move, form.order, form.id) if move else ""
                announce = ranking_news(form, move) if move else ""  # else the notice has focus
            else:
                errors = refused(reply)
                problem = next(
                    (errors[k] for k in (side.field, "not_acceptable_enrollment_ids", "_form")
                     if errors.get(k)), "",
                )  # fmt: skip
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
        max_ranked=side.limit,
        words=side.words,
        endpoint=side.endpoint,
        refusable=side.role == MENTOR,
    )


def ranking_news(form: Ranking, move: str) -> str:
    """What a screen reader hears after a saved change."""
    action, _, mentor_id = move.partition(":")
    name = next((m["name"] for m in form.mentors if m["id"] == mentor_id), "")
    if not name:
        return "Your ranking is saved."
    shown = [m["id"] for m in form.ranked]
    if action == "refuse":
        return f"{name} is marked not acceptable. Your ranking is saved."
    if mentor_id not in shown:
        return f"{name} is no longer ranked. Your ranking is saved."
    return f"{name} is now number {shown.index(mentor_id) + 1}. Your ranking is saved."


MENTEES_RANK = Side(
    role=MENTEE,
    endpoint="me.ranking",
    field="mentor_enrollment_ids",
    limit=MAX_RANKED,
    people=lambda e: fetch_or("enrollment", f"/api/cycles/{seg(e['cycle_id'])}/mentors", []),
    save=lambda form, order, _refused: call(
        "enrollment",
        "PUT",
        f"/api/enrollments/{seg(form.id)}/ranking",
        json={"mentor_enrollment_ids": order},
    ),
    words={
        "title": "Rank mentors",
        "whom": "mentors",
        "lead": "Show which mentors you would most like to work with. The pairing takes your "
        "choices into account; it cannot always give everyone their first choice.",
        "none": "No mentors are enrolled in this cycle yet. Come back once your coordinator has "
        "enrolled them.",
        "unranked": "Mentors you have not ranked",
        "no_cycle": "You are not a mentee in any open cycle, so there is no one to rank.",
    },
)


def _eligible_mentees(enrollment: dict) -> list[dict]:
    found = fetch_or("pairing", f"/api/enrollments/{seg(enrollment['id'])}/eligible-mentees", [])
    return [{**m, "id": m["enrollment_id"]} for m in found]


MENTORS_RANK = Side(
    role=MENTOR,
    endpoint="me.mentee_ranking",
    field="mentee_enrollment_ids",
    limit=MAX_RANKED_MENTEES,
    people=_eligible_mentees,
    save=lambda form, order, not_acceptable: call(
        "enrollment",
        "PUT",
        f"/api/enrollments/{seg(form.id)}/mentee-ranking",
        json={"mentee_enrollment_ids": order, "not_acceptable_enrollment_ids": not_acceptable},
    ),
    words={
        "title": "Rank mentees",
        "whom": "mentees",
        "lead": "Show which mentees you would most like to work with, among those the program's "
        "rules let you be paired with. Stable matching takes your order before its "
        "scores; mentees you mark not acceptable are never paired with you.",
        "none": "No mentee you could be paired with is enrolled in this cycle yet.",
        "unranked": "Mentees you have not ranked",
        "no_cycle": "You are not a mentor in any open cycle, so there is no one to rank.",
    },
)


@bp.route("/ranking", methods=["GET", "POST"])
@roles_required(MENTEE)
def ranking() -> ResponseReturnValue:
    return _rank(MENTEES_RANK)


@bp.route("/mentee-ranking", methods=["GET", "POST"])
@roles_required(MENTOR)
def mentee_ranking() -> ResponseReturnValue:
    return _rank(MENTORS_RANK)
