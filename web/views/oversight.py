"""Coordinator pages for watching a program: health, concerns inbox, surveys, audit trail, exports.

Every number comes from the feedback service, which suppresses any aggregate describing fewer
than 5 people and de-identifies what the consortium admin sees; these pages show what it says
and never work around it. Reading a concern's content is recorded by the service, so the inbox
lists concerns without it and only the concern's own page fetches it.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.auth import ADMIN, COORDINATOR
from services.eventkit.contracts.feedback import SURVEY_ITEM_KINDS
from services.eventkit.policy import Resource, Who, matches

from ..calls import call, can, fetch, fetch_or, staff_institutions
from ..client import Reply, ServiceError
from ..identity import STAFF, current_user, forbidden, roles_required
from ..pages import render, wants_fragment

bp = Blueprint("oversight", __name__, url_prefix="/coordinator")

HEALTH_POLL_S = 30
DEFAULT_INACTIVE_DAYS = 30
NO_VALUE = "\u2013"  # an en dash: shown where there is no number
MIN_PEOPLE = 5  # the feedback service's suppression threshold, for the pages' explanations


# --- shared helpers -----------------------------------------------------------------------------


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def _when(value: str | None) -> str:
    """An event time as people read it: '3 Mar 2026, 14:05 UTC'."""
    if not value:
        return ""
    moment = _parse_time(value)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def _age(value: str, now: dt.datetime) -> str:
    """How long ago: 'less than an hour', '5 hours', '3 days'."""
    hours = int((now - _parse_time(value)).total_seconds() // 3600)
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def _percent(share: float | None) -> str:
    return NO_VALUE if share is None else f"{round(share * 100)}%"


def _cycle(cycle_id: str) -> dict[str, Any]:
    """The cycle and its program's name (403/404 pages when the caller may not see it)."""
    cycle = fetch("enrollment", f"/api/cycles/{cycle_id}")
    program = fetch_or("enrollment", f"/api/programs/{cycle['program_id']}", {})
    return {**cycle, "program_name": program.get("name", "")}


def _consortium_admin() -> bool:
    return can("consortium.operate")


def _coordinates(cycle: dict) -> bool:
    """Coordinators of the cycle's program see who; the admin sees de-identified health."""
    user = current_user()
    resource = Resource(cycle["institution_id"], cycle["program_id"])
    return user is not None and matches(Who.COORDINATOR, user.principal, resource)


class _Names:
    """People's names by id, looked up once per page; an id stays an id when it cannot be."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, person_id: str | None) -> str:
        if not person_id:
            return ""
        if person_id not in self._known:
            person = fetch_or("enrollment", f"/api/people/{person_id}", {})
            self._known[person_id] = person.get("name") or f"Person {person_id[:8]}"
        return self._known[person_id]


# --- charts: inline SVG geometry (no style attributes; colours come from CSS classes) ----------

CHART_WIDTH = 600
CHART_HEIGHT = 220
CHART_TOP = 22  # room for the value written above the tallest column
CHART_BOTTOM = 26  # room for the labels under the columns
MAX_COLUMN_WIDTH = 64  # a cycle's first months stay columns, not slabs


@dataclasses.dataclass(frozen=True)
class Column:
    label: str
    shown: str  # the value as written above the column (NO_VALUE when suppressed)
    suppressed: bool
    x: float
    y: float
    width: float
    height: float

    @property
    def center(self) -> float:
        return round(self.x + self.width / 2, 1)


@dataclasses.dataclass(frozen=True)
class ColumnChart:
    columns: list[Column]
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    baseline: float = CHART_HEIGHT - CHART_BOTTOM


def column_chart(values: Sequence[tuple[str, float | None]]) -> ColumnChart:
    """Columns scaled to the largest value; a suppressed value (None) gets a stub, no height."""
    baseline = CHART_HEIGHT - CHART_BOTTOM
    room = baseline - CHART_TOP
    largest = max((v for _, v in values if v is not None), default=0) or 1
    slot = CHART_WIDTH / max(len(values), 1)
    width = round(min(slot * 0.6, MAX_COLUMN_WIDTH), 1)
    columns = []
    for index, (label, value) in enumerate(values):
        x = round(index * slot + (slot - width) / 2, 1)
        if value is None:
            columns.append(Column(label, NO_VALUE, True, x, baseline - 2, width, 2))
            continue
        height = round(room * value / largest, 1)
        shown = f"{value:g}"
        columns.append(Column(label, shown, False, x, round(baseline - height, 1), width, height))
    return ColumnChart(columns)


@dataclasses.dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float | None  # None: suppressed or no value, the line breaks there


@dataclasses.dataclass(frozen=True)
class LineChart:
    points: list[Point]
    lines: list[str]  # polyline `points` attributes, one per unbroken run
    grid: list[tuple[float, str]]  # (y, label) for 0%, 50% and 100%
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = 44  # room for the percentage labels


def share_line_chart(values: Sequence[tuple[str, float | None]]) -> LineChart:
    """Shares (0 to 1) over time as a line; a missing value breaks the line."""
    left = 44
    baseline = CHART_HEIGHT - CHART_BOTTOM
    room = baseline - CHART_TOP
    slot = (CHART_WIDTH - left) / max(len(values), 1)
    points, lines, run = [], [], []
    for index, (label, share) in enumerate(values):
        x = round(left + index * slot + slot / 2, 1)
        y = None if share is None else round(baseline - room * share, 1)
        points.append(Point(label, x, y))
        if y is None:
            if run:
                lines.append(" ".join(run))
            run = []
        else:
            run.append(f"{x},{y}")
    if run:
        lines.append(" ".join(run))
    grid = [(round(baseline - room * f, 1), f"{round(f * 100)}%") for f in (0, 0.5, 1)]
    return LineChart(points, lines, grid)


def _month_labels(months: Sequence[str]) -> list[str]:
    """['2025-12', '2026-01', '2026-02'] -> ['Dec 25', 'Jan 26', 'Feb']: short enough for a
    phone, with the year on the first month and at each new year."""
    labels = []
    for index, month in enumerate(months):
        day = dt.date.fromisoformat(f"{month}-01")
        labels.append(day.strftime("%b %y" if index == 0 or day.month == 1 else "%b"))
    return labels


def _month_name(month: str) -> str:
    return dt.date.fromisoformat(f"{month}-01").strftime("%B %Y")


def _fraction(value: float | None, largest: float) -> float:
    return 0.0 if value is None or not largest else min(value / largest, 1.0)


# --- program health -----------------------------------------------------------------------------


def _inactive_days() -> int:
    try:
        days = int(request.args.get("inactive_days", DEFAULT_INACTIVE_DAYS))
    except ValueError:
        return DEFAULT_INACTIVE_DAYS
    return min(max(days, 1), 365)


def _health_context(health: dict[str, Any]) -> dict[str, Any]:
    """Charts and rows prepared for the template, from the service's health answer."""
    trends = health.get("trends", [])
    months = [
        {
            **t,
            "name": _month_name(t["month"]),
            "pairs_met": _percent(t.get("pairs_met_share")),
            "confirmed": _percent(t.get("confirmed_share")),
        }
        for t in trends
    ]
    labels = _month_labels([t["month"] for t in trends])
    meetings_chart = column_chart(
        [
            (label, None if t["suppressed"] else t["meetings"])
            for label, t in zip(labels, trends, strict=True)
        ]
    )
    met_chart = share_line_chart(
        [
            (label, None if t["suppressed"] else t.get("pairs_met_share"))
            for label, t in zip(labels, trends, strict=True)
        ]
    )
    outcomes = health.get("mentor_outcomes", [])
    largest = max(
        (o["outcome"]["meetings_per_pair"] for o in outcomes if not o["outcome"]["suppressed"]),
        default=0,
    )
    mentors = [
        {
            "who": o.get("mentor_name") or f"Mentor {o['mentor_id']}",
            **o["outcome"],
            "bar": _fraction(o["outcome"].get("meetings_per_pair"), largest),
        }
        for o in outcomes
    ]
    objectives = health.get("objectives", {})
    by_status = objectives.get("by_status", {}) if not objectives.get("suppressed") else {}
    most = max(by_status.values(), default=0)
    statuses = [
        {"status": s.replace("_", " ").capitalize(), "count": n, "bar": _fraction(n, most)}
        for s, n in by_status.items()
    ]
    surveys = []
    for survey in health.get("surveys", []):
        rate = survey["response_rate"]
        surveys.append(
            {
                **survey,
                "due": survey["due_on"],
                "rate_shown": _percent(rate.get("rate")),
                "likert": [
                    {
                        **item,
                        "bar": _fraction(item["mean"].get("mean"), 5),
                    }
                    for item in survey["likert"]
                ],
            }
        )
    return {
        "months": months,
        "meetings_chart": meetings_chart,
        "met_chart": met_chart,
        "mentors": mentors,
        "statuses": statuses,
        "surveys": surveys,
        "percent": _percent,
    }


@bp.get("/cycles/<cycle_id>/health")
@roles_required(*STAFF)
def health(cycle_id: str) -> ResponseReturnValue:
    inactive_days = _inactive_days()
    polling = wants_fragment()
    try:
        cycle = _cycle(cycle_id)
        reply = call(
            "feedback",
            "GET",
            f"/api/cycles/{cycle_id}/health",
            params={"inactive_days": inactive_days},
        )
    except ServiceError:
        if polling:
            return Response(status=204)  # keep the numbers on screen until the next poll
        raise
    if reply.status == 403:
        abort(403)
    if reply.status == 404:
        return _not_known_yet(cycle)
    if not reply.ok:
        raise ServiceError("feedback", f"HTTP {reply.status}")
    health_data = reply.body
    return render(
        "oversight/health.html",
        fragment="dashboard",
        cycle=cycle,
        health=health_data,
        inactive_days=inactive_days,
        poll_s=HEALTH_POLL_S,
        min_people=MIN_PEOPLE,
        identified=_coordinates(cycle),
        checked_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        **_health_context(health_data),
    )


def _not_known_yet(cycle: dict[str, Any]) -> ResponseReturnValue:
    return (
        render_template(
            "error.html",
            title="No health data for this cycle yet",
            message=f"The feedback part of Tandem has not heard of the cycle “{cycle['name']}” "
            "yet. It learns about new cycles within a few seconds; reload this page shortly.",
        ),
        404,
    )


# --- the de-identified export -------------------------------------------------------------------


@bp.get("/cycles/<cycle_id>/export")
@roles_required(*STAFF)
def exports(cycle_id: str) -> ResponseReturnValue:
    cycle = _cycle(cycle_id)
    reply = call("feedback", "GET", f"/api/cycles/{cycle_id}/export.csv")
    if reply.status == 403:
        abort(403)
    if reply.status == 404:
        return _not_known_yet(cycle)
    if not reply.ok:
        raise ServiceError("feedback", f"HTTP {reply.status}")
    reader = csv.reader(io.StringIO(reply.content.decode("utf-8")))
    columns = next(reader, [])
    rows = sum(1 for _ in reader)
    return render(
        "oversight/export.html",
        cycle=cycle,
        columns=columns,
        rows=rows,
        min_people=MIN_PEOPLE,
    )


@bp.get("/cycles/<cycle_id>/export.csv")
@roles_required(*STAFF)
def export_csv(cycle_id: str) -> ResponseReturnValue:
    reply = call("feedback", "GET", f"/api/cycles/{cycle_id}/export.csv")
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        raise ServiceError("feedback", f"HTTP {reply.status}")
    response = Response(reply.content, mimetype="text/csv")
    name = f"tandem-outcomes-{cycle_id[:8]}-{dt.date.today().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the concerns inbox -------------------------------------------------------------------------

CONCERN_STATES = {
    "raised": "New, not acknowledged",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
}
CONCERN_KINDS = {
    "no_contact": "No contact from the other member",
    "boundary": "Boundaries or conduct",
    "rematch": "Asks for a new match",
    "other": "Something else",
}
ESCALATION_REASONS = {
    "coordinator_party": "a coordinator is a party to it",
    "not_acknowledged": "it was not acknowledged in time",
}
RAISER_ROLES = {"mentor": "Mentor", "mentee": "Mentee"}


def _concern_summary(row: dict[str, Any], now: dt.datetime, cycles: dict[str, str]) -> dict:
    overdue = row["status"] == "raised" and _parse_time(row["ack_due"]) <= now
    return {
        **row,
        "state": CONCERN_STATES.get(row["status"], row["status"]),
        "age": _age(row["raised_at"], now),
        "raised": _when(row["raised_at"]),
        "ack_by": _when(row["ack_due"]),
        "overdue": overdue,
        "cycle_name": cycles.get(row["cycle_id"], "a cycle"),
        "escalation": ESCALATION_REASONS.get(
            row.get("escalation_reason") or "", row.get("escalation_reason")
        ),
    }


@bp.get("/concerns")
@roles_required(*STAFF)
def concerns() -> ResponseReturnValue:
    status = request.args.get("status", "")
    if status not in CONCERN_STATES:
        status = ""
    rows = fetch("feedback", "/api/concerns", params={"status": status} if status else None)
    cycles = {
        cycle_id: fetch_or("enrollment", f"/api/cycles/{cycle_id}", {}).get("name", "a cycle")
        for cycle_id in {r["cycle_id"] for r in rows}
    }
    now = dt.datetime.now(dt.UTC)
    order = {"raised": 0, "acknowledged": 1, "resolved": 2}
    listed = sorted(
        (_concern_summary(r, now, cycles) for r in rows),
        key=lambda c: (order.get(c["status"], 3), c["raised_at"]),
    )
    return render(
        "oversight/concerns.html",
        concerns=listed,
        chosen=status,
        states=CONCERN_STATES,
    )


def _concern_unavailable() -> ResponseReturnValue:
    return (
        render_template(
            "error.html",
            title="This concern is not available to you",
            message="Either there is no such concern, or it is not yours to handle. A concern "
            "is never shown to the people it is about: if you are a party to it, another "
            "coordinator of the program or the consortium admin handles it. The consortium "
            "admin sees a concern only once it is escalated.",
            action=(url_for("oversight.concerns"), "Back to the concerns inbox"),
        ),
        404,
    )


@dataclasses.dataclass
class ResolveForm:
    note: str = ""
    error: str = ""


def _concern_page(
    concern_id: str,
    resolve: ResolveForm | None = None,
    error: str = "",
    status: int = 200,
) -> ResponseReturnValue:
    # Reading the content first: the service records this read before answering, so the
    # access log fetched next already shows it.
    reply = call("feedback", "GET", f"/api/concerns/{concern_id}")
    if reply.status in (403, 404):
        return _concern_unavailable()
    if not reply.ok:
        raise ServiceError("feedback", f"HTTP {reply.status}")
    row = reply.body
    access = fetch_or("feedback", f"/api/concerns/{concern_id}/access-log", [])
    names = _Names()
    now = dt.datetime.now(dt.UTC)
    cycle = fetch_or("enrollment", f"/api/cycles/{row['cycle_id']}", {})
    concern = {
        **_concern_summary(row, now, {row["cycle_id"]: cycle.get("name", "a cycle")}),
        "kind_label": CONCERN_KINDS.get(row["kind"], row["kind"]),
        "raiser": names(row["raised_by"]),
        "raiser_role": RAISER_ROLES.get(row["raiser_role"], row["raiser_role"]),
        "acknowledged": _when(row.get("acknowledged_at")),
        "acknowledger": names(row.get("acknowledged_by")),
        "resolved": _when(row.get("resolved_at")),
        "resolver": names(row.get("resolved_by")),
        "escalated_when": _when(row.get("escalated_at")),
        "handler": row["viewed_as"] in ("coordinator", "consortium_admin"),
    }
    log = [
        {
            "viewer": names(entry["viewer_id"]),
            "role": entry["viewer_role"].replace("_", " ").capitalize(),
            "when": _when(entry["viewed_at"]),
        }
        for entry in reversed(access)
    ]
    return render(
        "oversight/concern.html",
        status=status,
        concern=concern,
        access_log=log,
        resolve=resolve or ResolveForm(),
        error=error,
    )


@bp.get("/concerns/<concern_id>")
@roles_required(*STAFF)
def concern(concern_id: str) -> ResponseReturnValue:
    return _concern_page(concern_id)


@bp.post("/concerns/<concern_id>/acknowledge")
@roles_required(*STAFF)
def concern_acknowledge(concern_id: str) -> ResponseReturnValue:
    reply = call("feedback", "POST", f"/api/concerns/{concern_id}/acknowledge")
    if reply.status in (403, 404):
        return _concern_unavailable()
    if not reply.ok:
        return _concern_page(concern_id, error=reply.message, status=reply.status)
    flash("Concern acknowledged. Resolve it here once it has been dealt with.")
    return redirect(url_for("oversight.concern", concern_id=concern_id), 303)


@bp.post("/concerns/<concern_id>/resolve")
@roles_required(*STAFF)
def concern_resolve(concern_id: str) -> ResponseReturnValue:
    note = request.form.get("note", "").strip()
    if not note:
        form = ResolveForm(note, "Say how the concern was resolved.")
        return _concern_page(concern_id, resolve=form, status=422)
    reply = call("feedback", "POST", f"/api/concerns/{concern_id}/resolve", json={"note": note})
    if reply.status in (403, 404):
        return _concern_unavailable()
    if not reply.ok:
        errors = reply.field_errors()
        if "note" in errors:
            return _concern_page(concern_id, ResolveForm(note, errors["note"]), status=422)
        return _concern_page(concern_id, ResolveForm(note), reply.message, status=reply.status)
    flash("Concern resolved. The note is kept with it.")
    return redirect(url_for("oversight.concern", concern_id=concern_id), 303)


# --- surveys ------------------------------------------------------------------------------------

KIND_LABELS = {"likert": "Agreement, 1 to 5", "choice": "One choice", "text": "Free text"}
KIND_SHORT = {"likert": "agreement", "choice": "one-choice", "text": "free-text"}
DEFAULT_QUESTION_ROWS = 3
MAX_QUESTION_ROWS = 50  # the service takes at most 50 items
MONTHS_RE = re.compile(r"[\s,;]+")


@dataclasses.dataclass
class ScheduleForm:
    """A submitted schedule form of one cycle, with what the service said was wrong."""

    cycle_id: str
    template_id: str = ""
    months: str = ""
    errors: dict[str, str] = dataclasses.field(default_factory=dict)


def _cycles_of(institution_id: str) -> list[dict[str, Any]]:
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
        for cycle in _cycles_of(iid):
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
                                {**i, "issued": _when(i["issued_at"])} for i in s["instances"]
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
        can_issue=_consortium_admin(),
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


def _months(text: str) -> list[int] | None:
    """'6, 12' -> [6, 12]; None when a part is not a whole number."""
    parts = [p for p in MONTHS_RE.split(text.strip()) if p]
    if not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


@bp.post("/cycles/<cycle_id>/survey-schedules")
@roles_required(COORDINATOR)
def survey_schedule(cycle_id: str) -> ResponseReturnValue:
    form = ScheduleForm(
        cycle_id, request.form.get("template_id", ""), request.form.get("months", "").strip()
    )
    months = _months(form.months)
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
    if not _consortium_admin():
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


@dataclasses.dataclass
class QuestionRow:
    kind: str = "likert"
    prompt: str = ""
    choices: str = ""
    required: bool = True
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not self.prompt.strip() and not self.choices.strip()

    def item(self) -> dict[str, Any]:
        """The row as the service's survey item."""
        lines = [line.strip() for line in self.choices.splitlines() if line.strip()]
        item: dict[str, Any] = {
            "kind": self.kind,
            "prompt": self.prompt.strip(),
            "required": self.required,
        }
        if self.kind == "choice":
            item["options"] = lines
        elif self.kind == "likert" and lines:
            item["labels"] = lines
        return item


def _question_rows() -> list[QuestionRow]:
    try:
        count = int(request.form.get("rows", DEFAULT_QUESTION_ROWS))
    except ValueError:
        count = DEFAULT_QUESTION_ROWS
    rows = []
    for n in range(min(max(count, 1), MAX_QUESTION_ROWS)):
        rows.append(
            QuestionRow(
                kind=request.form.get(f"q{n}-kind", "likert"),
                prompt=request.form.get(f"q{n}-prompt", ""),
                choices=request.form.get(f"q{n}-choices", ""),
                required=request.form.get(f"q{n}-required") == "1",
            )
        )
    return rows


def _template_form(
    institution: dict[str, Any],
    name: str = "",
    description: str = "",
    rows: list[QuestionRow] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    focus_row: int | None = None,
) -> ResponseReturnValue:
    rows = rows or [QuestionRow() for _ in range(DEFAULT_QUESTION_ROWS)]
    return render(
        "oversight/survey_template_new.html",
        status=status,
        institution=institution,
        name=name,
        description=description,
        rows=rows,
        errors=errors or {},
        kinds=[(k, KIND_LABELS[k]) for k in SURVEY_ITEM_KINDS],
        can_add_row=len(rows) < MAX_QUESTION_ROWS,
        focus_row=focus_row,
    )


def _institution(institution_id: str) -> dict[str, Any]:
    for institution in staff_institutions():
        if institution["id"] == institution_id:
            return institution
    abort(404)


@bp.route("/institutions/<institution_id>/survey-templates/new", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def survey_template_new(institution_id: str) -> ResponseReturnValue:
    if not can("survey.templates", institution_id):
        return forbidden()
    institution = _institution(institution_id)
    if request.method == "GET":
        return _template_form(institution)
    name = request.form.get("name", "").strip()
    description = request.form.get("description", "").strip()
    rows = _question_rows()
    if request.form.get("action") == "add_row" and len(rows) < MAX_QUESTION_ROWS:
        rows.append(QuestionRow())
        return _template_form(institution, name, description, rows, focus_row=len(rows) - 1)

    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the template a name."
    sent = [row for row in rows if not row.blank]
    if not sent:
        errors["items"] = "Add at least one question."
    for row in sent:
        if not row.prompt.strip():
            row.errors["prompt"] = "Write the question."
    if errors or any(row.errors for row in sent):
        return _template_form(institution, name, description, rows, errors, status=422)

    body = {"name": name, "description": description, "items": [row.item() for row in sent]}
    reply = call(
        "feedback", "POST", f"/api/institutions/{institution_id}/survey-templates", json=body
    )
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        _place_errors(reply, sent, errors)
        return _template_form(institution, name, description, rows, errors, status=reply.status)
    flash(f"Survey template “{reply.body['name']}” created. Schedule it for a cycle below.")
    return redirect(url_for("oversight.surveys") + f"#institution-{institution_id}", 303)


def _place_errors(reply: Reply, sent: list[QuestionRow], errors: dict[str, str]) -> None:
    """The service's messages next to the fields they are about ('items.2.options' is the
    options box of the third question sent, which blank rows may have moved)."""
    fields = {"kind": "kind", "prompt": "prompt", "options": "choices", "labels": "choices"}
    for key, message in reply.field_errors().items():
        parts = key.split(".")
        if parts[0] == "items" and len(parts) >= 3 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(sent):
                sent[index].errors.setdefault(fields.get(parts[2], "prompt"), message)
                continue
        errors.setdefault(parts[0] if parts[0] in ("name", "description") else "items", message)
    if not errors and not any(row.errors for row in sent):
        errors["items"] = reply.message


# --- audit trail --------------------------------------------------------------------------------


@bp.get("/audit")
@roles_required(COORDINATOR)
def audit() -> ResponseReturnValue:
    """Everything recorded for the user's institutions, from every service (web/audit.py)."""
    from .. import audit as trail  # shared with the consortium admin's page

    return trail.coordinator_page()
