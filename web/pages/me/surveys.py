"""The surveys issued to the person, and answering them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import flash, request
from flask.typing import ResponseReturnValue

from ...calls import call, fetch
from ...identity import roles_required
from ...rendering import render
from ..blueprints import me as bp
from .labels import PARTICIPANTS
from .participation import back_to, find, my_enrollments, refused


def survey_answers(items: list[dict], form: Mapping[str, Any]) -> dict[str, Any]:
    """Answers by item id: Likert as whole numbers, unanswered as None (the service checks)."""
    answers: dict[str, Any] = {}
    for item in items:
        raw = (form.get(f"item-{item['item_id']}") or "").strip()
        if item["kind"] == "likert" and raw.isdigit():
            answers[item["item_id"]] = int(raw)
        else:
            answers[item["item_id"]] = raw or None
    return answers


@bp.get("/surveys")
@roles_required(*PARTICIPANTS)
def surveys() -> ResponseReturnValue:
    mine = fetch("feedback", "/api/me/surveys")
    mine.sort(key=lambda s: (s["status"] != "open", s["due_on"]))
    cycles = {e["cycle_id"]: e for e in my_enrollments()}
    return render("me/surveys.html", surveys=mine, cycles=cycles)


@bp.route("/surveys/<instance_id>", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def survey(instance_id: str) -> ResponseReturnValue:
    found = find(fetch("feedback", "/api/me/surveys"), "instance_id", instance_id)
    answers = dict((found.get("response") or {}).get("answers") or {})
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        answers = survey_answers(found["items"], request.form)
        body = {"answers": answers}
        reply = call(
            "feedback", "POST", f"/api/survey-instances/{instance_id}/responses", json=body
        )
        if reply.ok:
            flash(f"Thank you: your answers to “{found['template']}” are saved.")
            return back_to("me.surveys")
        errors = {k.removeprefix("answers."): v for k, v in refused(reply, depth=2).items()}
        status = 422
    cycle = next((e for e in my_enrollments() if e["cycle_id"] == found["cycle_id"]), {})
    return render(
        "me/survey.html", status=status, survey=found, answers=answers, errors=errors, cycle=cycle
    )
