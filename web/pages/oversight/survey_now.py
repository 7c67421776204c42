"""A cycle's surveys issued now and the results of every issued survey: a coordinator issues one
of the institution's templates now (to the whole cycle, chosen pairs and groups, or those at
risk), follows the response rates, reads each survey's results per item and downloads them
de-identified. The feedback service suppresses every figure describing fewer than 5 people."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.auth import COORDINATOR

from ...calls import call, fetch, fetch_or
from ...client import ServiceError
from ...identity import STAFF, roles_required
from ...rendering import render
from ..blueprints import oversight as bp
from ..forms import FormState
from .common import MIN_PEOPLE, cycle_with_program, percent, when
from .concerns import KIND_LABELS

AUDIENCES = {
    "cycle": "Everyone in the cycle's pairs and groups",
    "at_risk": "The pairs and groups at risk (no meeting for a while, as program health counts)",
    "chosen": "The pairs and groups I choose",
}
FIELDS = ("template_id", "audience", "relationship_ids", "days_to_answer", "inactive_days")


def _relationships(cycle_id: str) -> list[dict[str, Any]]:
    out = []
    for rel in fetch_or("feedback", f"/api/cycles/{cycle_id}/relationships", []):
        if not rel["active"]:
            continue
        names, titles = rel["names"], rel.get("titles") or {}
        who = ", ".join(
            f"{names.get(p) or 'Someone'} ({titles.get(p) or r})"
            for p, r in sorted(rel["members"].items(), key=lambda m: m[1] != "mentor")
        )
        label = f"{KIND_LABELS.get(rel['kind'], 'Pair')}: {who}"
        out.append({"id": rel["pair_id"], "label": label})
    return out


def _issued(cycle_id: str) -> list[dict[str, Any]]:
    return [
        {
            **x,
            "issued": when(x["issued_at"]),
            # A response rate over fewer than MIN_PEOPLE people is not shown, as in health.
            "rate": percent(x["responded"] / x["recipients"])
            if x["recipients"] >= MIN_PEOPLE
            else None,
        }
        for x in fetch_or("feedback", f"/api/cycles/{cycle_id}/survey-instances", [])
    ]


def _page(cycle_id: str, form: FormState | None = None, status: int = 200) -> ResponseReturnValue:
    cycle = cycle_with_program(cycle_id)
    templates = fetch_or(
        "feedback", f"/api/institutions/{cycle['institution_id']}/survey-templates", []
    )
    form = form or FormState({"audience": "cycle", "days_to_answer": "14", "inactive_days": "30"})
    return render(
        "oversight/survey_now.html",
        status=status,
        cycle=cycle,
        templates=templates,
        relationships=_relationships(cycle_id),
        issued=_issued(cycle_id),
        audiences=AUDIENCES,
        form=form,
        min_people=MIN_PEOPLE,
    )


@bp.get("/cycles/<cycle_id>/surveys")
@roles_required(*STAFF)
def surveys_now(cycle_id: str) -> ResponseReturnValue:
    return _page(cycle_id)


def _whole(form: FormState, field: str, low: int, high: int, message: str) -> int | None:
    text = str(form.values.get(field, "")).strip()
    if not text.isdigit() or not low <= int(text) <= high:
        form.errors[field] = message
        return None
    return int(text)


@bp.post("/cycles/<cycle_id>/surveys")
@roles_required(COORDINATOR)
def survey_issue_now(cycle_id: str) -> ResponseReturnValue:
    chosen = request.form.getlist("relationship_ids")
    form = FormState({k: request.form.get(k, "").strip() for k in FIELDS})
    form.values["relationship_ids"] = chosen
    if not form.values["template_id"]:
        form.errors["template_id"] = "Choose a template."
    if form.values["audience"] not in AUDIENCES:
        form.errors["audience"] = "Choose whom to send it to."
    elif form.values["audience"] == "chosen" and not chosen:
        form.errors["relationship_ids"] = "Choose at least one pair or group."
    days = _whole(form, "days_to_answer", 1, 120, "Give 1 to 120 days.")
    inactive = _whole(form, "inactive_days", 1, 365, "Give 1 to 365 days.")
    if form.errors:
        return _page(cycle_id, form, 422)
    body = {
        "template_id": form.values["template_id"], "audience": form.values["audience"],
        "relationship_ids": chosen if form.values["audience"] == "chosen" else [],
        "days_to_answer": days, "inactive_days": inactive,
    }  # fmt: skip
    reply = call("feedback", "POST", f"/api/cycles/{cycle_id}/surveys/issue-now", json=body)
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        for key, message in reply.form_errors().items():
            form.errors.setdefault(key if key in FIELDS else "", message)
        if not form.errors:
            form.message = reply.message
        form.message = form.errors.pop("", form.message)
        return _page(cycle_id, form, reply.status)
    flash(
        f"“{reply.body['template']}” was sent to {reply.body['recipients']} people, to answer "
        f"by {reply.body['due_on']}. Each is told by email and in their inbox."
    )
    return redirect(url_for("oversight.surveys_now", cycle_id=cycle_id) + "#issued", 303)


def _results(instance_id: str) -> dict[str, Any]:
    return fetch("feedback", f"/api/survey-instances/{instance_id}/results")


@bp.get("/survey-instances/<instance_id>/results")
@roles_required(*STAFF)
def survey_results(instance_id: str) -> ResponseReturnValue:
    results = _results(instance_id)
    cycle = cycle_with_program(results["cycle_id"])
    rate = results["response_rate"]
    for item in results["items"]:
        shown = item["result"]
        total = shown.get("responses") or 0
        for row in shown.get("distribution", []) + shown.get("counts", []):
            row["share"] = row["count"] / total if total else 0
            row["percent"] = percent(row["share"])
    return render(
        "oversight/survey_results.html",
        cycle=cycle,
        results=results,
        rate=rate,
        rate_percent=percent(rate.get("rate")),
        issued=when(results["issued_at"]),
        min_people=MIN_PEOPLE,
    )


@bp.get("/survey-instances/<instance_id>/results.csv")
@roles_required(*STAFF)
def survey_results_csv(instance_id: str) -> ResponseReturnValue:
    reply = call("feedback", "GET", f"/api/survey-instances/{instance_id}/results.csv")
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        raise ServiceError("feedback", f"HTTP {reply.status}")
    response = Response(reply.content, mimetype="text/csv")
    name = f"tandem-survey-results-{instance_id[:8]}-{dt.date.today().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
