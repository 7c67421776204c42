"""Importing a cycle's roster from CSV: a preview of every change, applied once confirmed; and
the template to start from."""

from __future__ import annotations

import csv
import io

from flask import Response, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from ...calls import call, seg, staff_cycle
from ...client import Reply
from ...rendering import render
from ..blueprints import coord as bp
from . import invitations
from .catalog import program_of, refuse_if_forbidden, staff_only

# The roster CSV the enrollment service reads (services/enrollment/domain/roster_file.py), as explained
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
    (
        "conflicts",
        "No",
        "People this person must never be paired with, as kind:email separated by semicolons; "
        "the kind is supervisor, assessor, line manager or other. Each email must be in the "
        "file or already registered.",
        "supervisor:sam.mentor@hospital.org",
    ),
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
SUMMARY_KEYS = (
    "rows", "people_registered", "enrolled", "updated", "unchanged", "other_institution",
)  # fmt: skip


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
        f"/api/cycles/{seg(cycle_id)}/roster/preview",
        data=data,
        content_type="text/csv",
    )
    refuse_if_forbidden(reply)
    if not reply.ok:
        return _roster_page(
            cycle,
            422 if reply.status == 422 else reply.status,
            message=reply.message,
            rows=_row_errors(reply),
            filename=upload.filename,
        )
    return _roster_page(cycle, preview=_preview(reply.body), filename=upload.filename)


@bp.post("/cycles/<cycle_id>/roster/confirm")
@staff_only
def roster_confirm(cycle_id: str) -> ResponseReturnValue:
    """Apply the roster exactly as previewed; if the directory changed, show the new preview."""
    cycle = staff_cycle(cycle_id)
    filename = request.form.get("filename", "")[:200]
    confirmed = {k: request.form.get(k, "") for k in ("file_sha256", "plan")}
    invitation, problem = invitations.choice(request.form, invitations.zone_of(cycle))
    if problem:
        # Only the choice to make again: the preview stays as it was shown.
        return _roster_page(
            cycle, 422, preview={**confirmed, "counts": None}, filename=filename,
            invite_error=problem,
        )  # fmt: skip
    reply = call(
        "enrollment",
        "POST",
        f"/api/cycles/{seg(cycle_id)}/roster/apply",
        json={**confirmed, "invitation": invitation},
    )
    refuse_if_forbidden(reply)
    if reply.status == 409 and isinstance(reply.body, dict):
        return _roster_page(
            cycle,
            409,
            preview=_preview(reply.body.get("preview") or {}),
            changed=reply.message,
            filename=filename,
        )
    if not reply.ok:
        message = reply.message
        if reply.status in (404, 422) and not _row_errors(reply):
            message = "This preview is no longer available. Upload the file again."
        return _roster_page(
            cycle, reply.status, message=message, rows=_row_errors(reply), filename=filename
        )
    summary = {k: int(reply.body.get(k, 0)) for k in SUMMARY_KEYS}
    session[ROSTER_RESULT_KEY] = {"cycle": cycle_id, "filename": filename, **summary}
    return redirect(url_for(".roster", cycle_id=cycle_id))


# How the preview names each field that changes.
FIELD_LABELS = {
    "name": "Name",
    "training_level": "Training level",
    "specialty": "Specialty",
    "pronouns": "Pronouns",
    "interests": "Interests",
    "goals": "Goals",
    "languages": "Languages",
    "meeting_mode": "Meeting mode",
    "capacity": "Capacity",
}
STATUS_LABELS = {
    "new": "New person",
    "updated": "Changes",
    "unchanged": "Unchanged",
    "other_institution": "Not imported",
}
# A preview lists at most this many people of each kind; the counts cover every row.
MAX_PREVIEWED = 2000


def _shown(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) or "(none)"
    if value is None or value == "":
        return "(empty)"
    return str(value)


def _preview(body: dict) -> dict:
    """The enrollment service's preview, as the page lists it: people with something to say
    first (new, changed, left out), the unchanged apart."""
    people = [p for p in body.get("people", []) if isinstance(p, dict)]
    for p in people:
        p["changes_shown"] = [
            (FIELD_LABELS.get(c.get("field"), c.get("field")), _shown(c.get("old")),
             _shown(c.get("new")))
            for c in p.get("changes", [])
        ]  # fmt: skip
        p["status_label"] = STATUS_LABELS.get(p.get("status"), p.get("status"))
    listed = [p for p in people if p.get("status") != "unchanged"]
    unchanged = [p for p in people if p.get("status") == "unchanged"]
    return {
        "file_sha256": body.get("file_sha256", ""),
        "plan": body.get("plan", ""),
        "counts": body.get("counts", {}),
        "listed": listed[:MAX_PREVIEWED],
        "unchanged": unchanged[:MAX_PREVIEWED],
        "more": max(0, len(listed) - MAX_PREVIEWED) + max(0, len(unchanged) - MAX_PREVIEWED),
    }


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
    preview: dict | None = None,
    changed: str = "",
    invite_error: str = "",
) -> Response:
    return render(
        "coord/roster.html",
        fragment="upload",
        status=status,
        columns=ROSTER_COLUMNS,
        cycle=cycle,
        program=program_of(cycle),
        summary=summary,
        file_error=file_error,
        message=message,
        rows=rows or [],
        filename=filename,
        preview=preview,
        changed=changed,
        choices=invitations.CHOICES,
        zone=str(invitations.zone_of(cycle)) if preview else "",
        invite=request.form.get("invite", ""),
        invite_at=request.form.get("invite_at", ""),
        invite_error=invite_error,
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
