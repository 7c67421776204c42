"""Coordinator pages: programs and cycles, roster import, participants.

Every page re-checks that the signed-in user is staff of the cycle's institution: the services
let any member of an institution read its cycles, but only its coordinators (and the consortium
admin) run them.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue

from services.eventkit.auth import ADMIN, COORDINATOR
from services.eventkit.contracts.enrollment import PAIRING_FORMATS

from ..calls import call, can, fetch, fetch_or, seg, staff_cycle, staff_institutions
from ..client import Reply
from ..identity import roles_required, safe_next
from ..pages import render, wants_fragment

bp = Blueprint("coord", __name__, url_prefix="/coordinator")

PROGRAM_TYPES = {
    "resident_peer_mentoring": "Resident peer mentoring",
    "faculty_mentoring": "Faculty mentoring",
    "student_career_coaching": "Student career coaching",
    "mentoring_families": "Mentoring families",
    "big_sibling": "Big sibling",
}
FORMAT_LABELS = {
    "one_to_one": "One to one",
    "group": "Group coaching",
    "family": "Mentoring family",
}
FORMATS = {key: FORMAT_LABELS.get(key, key.replace("_", " ")) for key in PAIRING_FORMATS}
ROLES = {"mentor": "Mentor", "mentee": "Mentee"}
STATUSES = {"active": "Active", "withdrawn": "Withdrawn"}

# The roster CSV the enrollment service reads (services/enrollment/roster.py), as explained
# to coordinators: (column, whether it is required, what goes in it, an example).
ROSTER_COLUMNS = (
    ("name", "Yes", "Full name.", "Ada Example"),
    ("email", "Yes", "Work email; each person on one row only.", "ada.example@hospital.org"),
    ("role", "Yes", "mentor or mentee.", "mentee"),
    (
        "training_level",
        "Yes",
        "MS1 to MS6, PGY1 to PGY7, research_resident, fellow or faculty.",
        "PGY1",
    ),
    ("specialty", "No", "Specialty or department.", "General Surgery"),
    ("pronouns", "No", "As the person wants them shown.", "she/her"),
    ("interests", "No", "Separated by semicolons; at most 20.", "trauma; research"),
    ("goals", "No", "What the person hopes to get from the program.", "Publish a case report"),
    ("languages", "No", "Separated by semicolons.", "English; Spanish"),
    ("meeting_mode", "No", "in person, virtual or either (the default).", "either"),
    ("capacity", "Mentors", "How many mentees a mentor takes, 1 to 20; empty for mentees.", "2"),
)
TEMPLATE_ROWS = (
    {
        "name": "Sam Mentor",
        "email": "sam.mentor@hospital.org",
        "role": "mentor",
        "training_level": "PGY4",
        "specialty": "General Surgery",
        "interests": "trauma; research",
        "goals": "Help an intern settle in",
        "languages": "English",
        "meeting_mode": "in person",
        "capacity": "2",
    },
    {
        "name": "Ada Mentee",
        "email": "ada.mentee@hospital.org",
        "role": "mentee",
        "training_level": "PGY1",
        "specialty": "General Surgery",
        "pronouns": "she/her",
        "interests": "research; wellness",
        "goals": "Start a research project",
        "languages": "English; Spanish",
        "meeting_mode": "either",
    },
)

# Large enough for any real roster; the enrollment service applies its own, smaller limit.
MAX_UPLOAD_BYTES = 32 * 1024 * 1024
ROSTER_RESULT_KEY = "coord.roster_result"
SUMMARY_KEYS = ("rows", "people_registered", "enrolled", "updated", "unchanged")
# A long roster is searched, not scrolled: one page shows at most this many people.
MAX_SHOWN = 200

staff_only = roles_required(ADMIN, COORDINATOR)


@dataclasses.dataclass
class FormState:
    """What a form shows: the values typed, per-field errors, a message for the whole form."""

    values: dict[str, Any] = dataclasses.field(default_factory=dict)
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    message: str = ""
    target: str = ""  # which of several forms of the same kind (a program id) this state is for

    @property
    def invalid(self) -> bool:
        return bool(self.errors or self.message)


@dataclasses.dataclass
class ProgramEntry:
    program: dict
    cycles: list[dict]


@dataclasses.dataclass
class InstitutionEntry:
    institution: dict
    programs: list[ProgramEntry]

    @property
    def can_create_program(self) -> bool:
        return can("program.create", self.institution["id"])


def _catalog() -> list[InstitutionEntry]:
    entries = []
    for institution in staff_institutions():
        programs = [
            ProgramEntry(program, fetch("enrollment", f"/api/programs/{seg(program['id'])}/cycles"))
            for program in fetch(
                "enrollment", f"/api/institutions/{seg(institution['id'])}/programs"
            )
        ]
        entries.append(InstitutionEntry(institution, programs))
    return entries


def _program_of(cycle: dict) -> dict:
    return fetch("enrollment", f"/api/programs/{seg(cycle['program_id'])}")


def _refuse_if_forbidden(reply: Reply) -> None:
    if reply.status in (403, 404):
        abort(reply.status)


# --- programs and cycles -------------------------------------------------------------------


@bp.get("/programs")
@staff_only
def programs() -> ResponseReturnValue:
    return _programs_page()


def _programs_page(
    status: int = 200,
    program_form: FormState | None = None,
    cycle_form: FormState | None = None,
) -> Response:
    catalog = _catalog()
    creators = [entry for entry in catalog if entry.can_create_program]
    program_form = program_form or FormState(
        values={"institution_id": creators[0].institution["id"] if len(creators) == 1 else ""}
    )
    return render(
        "coord/programs.html",
        status=status,
        catalog=catalog,
        program_form=program_form,
        cycle_form=cycle_form or FormState(),
        program_types=PROGRAM_TYPES,
        formats=FORMATS,
    )


@bp.post("/programs")
@staff_only
def create_program() -> ResponseReturnValue:
    form = request.form
    values = {k: form.get(k, "").strip() for k in ("institution_id", "name", "program_type")}
    values["guidelines"] = form.get("guidelines", "").strip()
    errors: dict[str, str] = {}
    if not can("program.create", values["institution_id"] or None):
        errors["institution_id"] = "Choose the institution that runs the program."
    if not values["name"]:
        errors["name"] = "Enter the program's name."
    if values["program_type"] not in PROGRAM_TYPES:
        errors["program_type"] = "Choose the kind of program."
    message = ""
    if not errors:
        reply = call(
            "enrollment",
            "POST",
            f"/api/institutions/{seg(values['institution_id'])}/programs",
            json={k: values[k] for k in ("name", "program_type", "guidelines")},
        )
        _refuse_if_forbidden(reply)
        if reply.ok:
            flash(f"Program “{reply.body['name']}” created. Open its first cycle below.")
            return redirect(url_for(".programs") + f"#program-{reply.body['id']}")
        errors = reply.form_errors()
        message = "" if errors else reply.message
    return _programs_page(422, program_form=FormState(values, errors, message))


def parse_months(text: str) -> list[int] | None:
    """ "6, 12" -> [6, 12]; None when any part is not a whole number."""
    parts = [p for p in re.split(r"[\s,;]+", text.strip()) if p]
    if not all(p.isdigit() for p in parts):
        return None
    return sorted({int(p) for p in parts})


@bp.post("/programs/<program_id>/cycles")
@staff_only
def open_cycle(program_id: str) -> ResponseReturnValue:
    form = request.form
    values: dict[str, Any] = {
        k: form.get(k, "").strip()
        for k in ("name", "pairing_format", "group_size", "meeting_expectations", "review_months")
    }
    values["cross_institution"] = form.get("cross_institution") == "on"
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Enter a name for the cycle, such as the academic year."
    if values["pairing_format"] not in FORMATS:
        errors["pairing_format"] = "Choose how people are paired."
    group_size = None
    if values["group_size"]:
        if values["group_size"].isdigit():
            group_size = int(values["group_size"])
        else:
            errors["group_size"] = "Enter the group size as a whole number, such as 5."
    months = parse_months(values["review_months"])
    if months is None:
        errors["review_months"] = "Enter whole months separated by commas, such as 6, 12."
    message = ""
    if not errors:
        reply = call(
            "enrollment",
            "POST",
            f"/api/programs/{seg(program_id)}/cycles",
            json={
                "name": values["name"],
                "pairing_format": values["pairing_format"],
                "group_size": group_size,
                "meeting_expectations": values["meeting_expectations"],
                "review_months": months,
                "cross_institution": values["cross_institution"],
            },
        )
        _refuse_if_forbidden(reply)
        if reply.ok:
            flash(f"Cycle “{reply.body['name']}” is open. Next, import its roster.")
            return redirect(url_for(".cycle", cycle_id=reply.body["id"]))
        errors = reply.form_errors()
        message = "" if errors else reply.message
    state = FormState(values, errors, message, target=program_id)
    return _programs_page(422, cycle_form=state)


def _set_cycle_state(cycle_id: str, action: str) -> ResponseReturnValue:
    cycle = staff_cycle(cycle_id)
    reply = call("enrollment", "POST", f"/api/cycles/{seg(cycle_id)}/{action}")
    _refuse_if_forbidden(reply)
    if reply.ok and action == "close":
        flash(f"Cycle “{cycle['name']}” is closed: no one can join it until it is reopened.")
    elif reply.ok:
        flash(f"Cycle “{cycle['name']}” is open again for enrollment.")
    else:
        flash(reply.message)
    return redirect(safe_next(request.form.get("next"), url_for(".cycle", cycle_id=cycle_id)))


@bp.post("/cycles/<cycle_id>/close")
@staff_only
def close_cycle(cycle_id: str) -> ResponseReturnValue:
    return _set_cycle_state(cycle_id, "close")


@bp.post("/cycles/<cycle_id>/reopen")
@staff_only
def reopen_cycle(cycle_id: str) -> ResponseReturnValue:
    return _set_cycle_state(cycle_id, "reopen")


# --- one cycle -----------------------------------------------------------------------------


def _other_pages(cycle_id: str) -> list[tuple[str, str, str]]:
    """(label, address, what it is for) of the cycle's pages in other areas that exist here."""
    pages = (
        ("pairing.cycle", "Pairing", "Set the pairing rules, run pairing, review and publish."),
        ("oversight.health", "Program health", "Meetings, survey answers and pairs at risk."),
        ("oversight.exports", "Exports", "De-identified outcome data for the cycle."),
    )
    return [
        (label, url_for(endpoint, cycle_id=cycle_id), purpose)
        for endpoint, label, purpose in pages
        if endpoint in current_app.view_functions
    ]


@bp.get("/cycles/<cycle_id>")
@staff_only
def cycle(cycle_id: str) -> ResponseReturnValue:
    cycle = staff_cycle(cycle_id)
    program = _program_of(cycle)
    enrollments = fetch("enrollment", f"/api/cycles/{seg(cycle_id)}/enrollments")
    active = [e for e in enrollments if e["status"] == "active"]
    mentors = [e for e in active if e["role"] == "mentor"]
    counts = {
        "Active mentors": len(mentors),
        "Active mentees": sum(e["role"] == "mentee" for e in active),
        "Mentee places offered": sum(e.get("capacity") or 0 for e in mentors),
        "Withdrawn": len(enrollments) - len(active),
    }
    accepted = sum(
        (e.get("guidelines_accepted_version") or 0) >= program["guidelines_version"] for e in active
    )
    return render(
        "coord/cycle.html",
        cycle=cycle,
        program=program,
        institution=_institution_name(cycle["institution_id"]),
        counts=counts,
        accepted=accepted,
        active_count=len(active),
        formats=FORMATS,
        other_pages=_other_pages(cycle_id),
    )


def _institution_name(institution_id: str) -> str:
    for institution in fetch_or("enrollment", "/api/institutions", []):
        if institution.get("id") == institution_id:
            return institution.get("name", "")
    return ""


# --- roster import -------------------------------------------------------------------------


@bp.route("/cycles/<cycle_id>/roster", methods=["GET", "POST"])
@staff_only
def roster(cycle_id: str) -> ResponseReturnValue:
    cycle = staff_cycle(cycle_id)
    if request.method == "GET":
        result = session.pop(ROSTER_RESULT_KEY, None)
        summary = result if isinstance(result, dict) and result.get("cycle") == cycle_id else None
        return _roster_page(cycle, summary=summary)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _roster_page(cycle, 422, file_error="Choose the roster's CSV file to upload.")
    data = upload.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        return _roster_page(
            cycle,
            422,
            file_error="The file is too large. Split the roster and upload each part.",
        )
    reply = call(
        "enrollment",
        "POST",
        f"/api/cycles/{seg(cycle_id)}/roster",
        data=data,
        content_type="text/csv",
    )
    _refuse_if_forbidden(reply)
    if not reply.ok:
        return _roster_page(
            cycle,
            422 if reply.status == 422 else reply.status,
            message=reply.message,
            rows=_row_errors(reply),
            filename=upload.filename,
        )
    summary = {k: int(reply.body.get(k, 0)) for k in SUMMARY_KEYS}
    session[ROSTER_RESULT_KEY] = {"cycle": cycle_id, "filename": upload.filename, **summary}
    return redirect(url_for(".roster", cycle_id=cycle_id))


def _row_errors(reply: Reply) -> list[dict]:
    """The bad rows of a refused roster, in file order: line, column (or None), message."""
    body = reply.body if isinstance(reply.body, dict) else {}
    errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
    rows = errors.get("rows") if isinstance(errors.get("rows"), list) else []
    found = [
        {
            "line": r.get("line") if isinstance(r.get("line"), int) else None,
            "column": r.get("column") if isinstance(r.get("column"), str) else None,
            "message": str(r.get("message", "")),
        }
        for r in rows
        if isinstance(r, dict)
    ]
    return sorted(found, key=lambda r: r["line"] or 0)


def _roster_page(
    cycle: dict,
    status: int = 200,
    *,
    summary: dict | None = None,
    file_error: str = "",
    message: str = "",
    rows: list[dict] | None = None,
    filename: str = "",
) -> Response:
    return render(
        "coord/roster.html",
        fragment="upload",
        status=status,
        cycle=cycle,
        program=_program_of(cycle),
        summary=summary,
        file_error=file_error,
        message=message,
        rows=rows or [],
        filename=filename,
        columns=ROSTER_COLUMNS,
    )


@bp.get("/roster-template.csv")
@staff_only
def roster_template() -> Response:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=[c[0] for c in ROSTER_COLUMNS], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(TEMPLATE_ROWS)
    return Response(
        out.getvalue().encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="tandem-roster-template.csv"'},
    )


# --- participants --------------------------------------------------------------------------


@bp.get("/participants")
@staff_only
def participants() -> ResponseReturnValue:
    cycle_id = request.args.get("cycle", "").strip()
    if not cycle_id:
        choices = [
            (entry.institution, p.program, c)
            for entry in _catalog()
            for p in entry.programs
            for c in p.cycles
            if c["is_open"]
        ]
        return render("coord/participants.html", cycle=None, choices=choices)
    cycle = staff_cycle(cycle_id)
    q = request.args.get("q", "").strip()[:100]
    role = request.args.get("role", "")
    role = role if role in ROLES else ""
    status = request.args.get("status", "")
    status = status if status in STATUSES else ""
    params = {k: v for k, v in (("q", q), ("role", role), ("status", status)) if v}
    people = fetch("enrollment", f"/api/cycles/{seg(cycle_id)}/enrollments", params=params)
    return render(
        "coord/participants.html",
        fragment="results",
        cycle=cycle,
        program=_program_of(cycle),
        people=people[:MAX_SHOWN],
        total=len(people),
        q=q,
        role=role,
        status_filter=status,  # `status` is the response's HTTP status
        roles=ROLES,
        statuses=STATUSES,
        partial=wants_fragment(),
        here=request.full_path if request.query_string else request.path,
    )


def _enrollment_action(enrollment_id: str, action: str, payload: dict | None) -> Reply:
    reply = call(
        "enrollment", "POST", f"/api/enrollments/{seg(enrollment_id)}/{action}", json=payload
    )
    _refuse_if_forbidden(reply)
    return reply


@bp.post("/enrollments/<enrollment_id>/withdraw")
@staff_only
def withdraw(enrollment_id: str) -> ResponseReturnValue:
    reason = request.form.get("reason", "").strip()
    if len(reason) > 500:
        flash("The reason must be at most 500 characters; nothing was changed.")
    else:
        reply = _enrollment_action(enrollment_id, "withdraw", {"reason": reason})
        if reply.ok:
            flash(f"{reply.body['name']} is withdrawn from the cycle.")
        else:
            flash(reply.message)
    return redirect(safe_next(request.form.get("next"), url_for(".participants")))


@bp.post("/enrollments/<enrollment_id>/reenroll")
@staff_only
def reenroll(enrollment_id: str) -> ResponseReturnValue:
    reply = _enrollment_action(enrollment_id, "reenroll", None)
    flash(f"{reply.body['name']} is enrolled again." if reply.ok else reply.message)
    return redirect(safe_next(request.form.get("next"), url_for(".participants")))
