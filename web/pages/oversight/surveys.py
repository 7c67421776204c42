"""Survey templates and schedules per cycle; the consortium admin issues what is due."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.auth import ADMIN, COORDINATOR
from services.eventkit.contracts.feedback import SURVEY_ITEM_KINDS

from ...calls import call, can, fetch_or, staff_institutions
from ...identity import STAFF, forbidden, roles_required
from ...rendering import render
from ..blueprints import oversight as bp
from ..forms import whole_numbers
from .common import MIN_PEOPLE, consortium_admin, when

KIND_SHORT = {"likert": "agreement", "choice": "one-choice", "text": "free-text"}


@dataclasses.dataclass
class ScheduleForm:
    """A submitted schedule form of one cycle, with what the service said was wrong."""

    cycle_id: str
    template_id: str = ""
    months: str = ""
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


def cycles_of(institution_id: str) -> list[dict[str, Any]]:
    out = []
    for program in fetch_or("enrollment", f"/api/institutions/{institution_id}/programs", []):
        for cycle in fetch_or("enrollment", f"/api/programs/{program['id']}/cycles", []):
            out.append({**cycle, "program_name": program["name"]})
    return out


def _surveys_page(form: ScheduleForm | None = None, status: int = 200) -> ResponseReturnValue:
    areas = []
    for institution in staff_institutions():
        iid = institution["id"]
        templates = fetch_or("feedback", f"/api/institutions/{iid}/survey-templates", [])
        names = {t["template_id"]: t["name"] for t in templates}
        cycles = []
        for cycle in cycles_of(iid):
            reply = call("feedback", "GET", f"/api/cycles/{cycle['id']}/survey-schedules")
            schedules = reply.body if reply.ok else None
            scheduled = {s["template_id"] for s in schedules or []}
            cycles.append(
                {
                    **cycle,
                    "schedules": [
                        {
                            **s,
                            "template": names.get(s["template_id"], "A template"),
                            "issued": [
                                {**i, "issued": when(i["issued_at"])} for i in s["instances"]
                            ],
                        }
                        for s in schedules or []
                    ],
                    "known": schedules is not None,
                    "unscheduled": [t for t in templates if t["template_id"] not in scheduled],
                    "form": form if form and form.cycle_id == cycle["id"] else None,
                }
            )
        areas.append(
            {
                "institution": institution,
                "templates": [
                    {
                        **t,
                        "kinds": ", ".join(
                            f"{sum(1 for i in t['items'] if i['kind'] == k)} {KIND_SHORT[k]}"
                            for k in SURVEY_ITEM_KINDS
                            if any(i["kind"] == k for i in t["items"])
                        ),
                    }
                    for t in templates
                ],
                "can_define": can("survey.templates", iid),
                "cycles": cycles,
            }
        )
    return render(
        "oversight/surveys.html",
        status=status,
        areas=areas,
        can_issue=consortium_admin(),
        min_people=MIN_PEOPLE,
    )


@bp.get("/surveys")
@roles_required(*STAFF)
def surveys() -> ResponseReturnValue:
    return _surveys_page()


@bp.post("/institutions/<institution_id>/survey-templates/builtins")
@roles_required(COORDINATOR)
def survey_builtins(institution_id: str) -> ResponseReturnValue:
    reply = call(
        "feedback", "POST", f"/api/institutions/{institution_id}/survey-templates/builtins", json={}
    )
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        flash(f"The ready-made templates could not be added: {reply.message}")
    else:
        added = ", ".join(t["name"] for t in reply.body)
        flash(f"The ready-made templates are in place: {added}.")
    return redirect(url_for("oversight.surveys") + f"#institution-{institution_id}", 303)


@bp.post("/cycles/<cycle_id>/survey-schedules")
@roles_required(COORDINATOR)
def survey_schedule(cycle_id: str) -> ResponseReturnValue:
    form = ScheduleForm(
        cycle_id, request.form.get("template_id", ""), request.form.get("months", "").strip()
    )
    months = whole_numbers(form.months)
    if not form.template_id:
        form.errors["template_id"] = "Choose a template."
    if months is None:
        form.errors["months"] = "Give months as whole numbers, like 6, 12."
    if form.errors:
        return _surveys_page(form, status=422)
    body: dict[str, Any] = {"template_id": form.template_id}
    if months:
        body["months"] = months
    reply = call("feedback", "POST", f"/api/cycles/{cycle_id}/survey-schedules", json=body)
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        for key, message in reply.field_errors().items():
            field = key.split(".")[0]
            form.errors.setdefault(field if field in ("template_id", "months") else "", message)
        if not form.errors:
            form.errors[""] = reply.message
        return _surveys_page(form, status=reply.status)
    flash("Survey scheduled. Each month's survey is issued when that month of the cycle comes.")
    return redirect(url_for("oversight.surveys") + f"#cycle-{cycle_id}", 303)


@bp.post("/surveys/issue-due")
@roles_required(ADMIN)
def survey_issue_due() -> ResponseReturnValue:
    if not consortium_admin():
        return forbidden()
    reply = call("feedback", "POST", "/api/surveys/issue-due")
    if reply.status == 403:
        abort(403)
    if not reply.ok:
        flash(f"Surveys could not be issued: {reply.message}")
    elif reply.body:
        people = sum(i["recipients"] for i in reply.body)
        flash(f"Issued {len(reply.body)} due surveys to {people} people.")
    else:
        flash("No survey was due: everything scheduled up to today is issued already.")
    return redirect(url_for("oversight.surveys"), 303)
