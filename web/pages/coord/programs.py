"""Programs and cycles: creating a program, opening, closing and reopening a cycle, a cycle's page."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.contracts.vocabulary import FORMAT_LABELS, PROGRAM_TYPE_LABELS

from ...calls import call, can, fetch, fetch_or, seg, staff_cycle
from ...identity import safe_next
from ...rendering import render
from ..blueprints import coord as bp
from ..forms import FormState, whole_numbers
from .catalog import catalog, program_of, refuse_if_forbidden, staff_only

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
    entries = catalog()
    creators = [entry for entry in entries if entry.can_create_program]
    program_form = program_form or FormState(
        values={"institution_id": creators[0].institution["id"] if len(creators) == 1 else ""}
    )
    return render(
        "coord/programs.html",
        status=status,
        program_types=PROGRAM_TYPE_LABELS,
        formats=FORMAT_LABELS,
        catalog=entries,
        program_form=program_form,
        cycle_form=cycle_form or FormState(),
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
    if values["program_type"] not in PROGRAM_TYPE_LABELS:
        errors["program_type"] = "Choose the kind of program."
    message = ""
    if not errors:
        reply = call(
            "enrollment",
            "POST",
            f"/api/institutions/{seg(values['institution_id'])}/programs",
            json={k: values[k] for k in ("name", "program_type", "guidelines")},
        )
        refuse_if_forbidden(reply)
        if reply.ok:
            flash(f"Program “{reply.body['name']}” created. Open its first cycle below.")
            return redirect(url_for(".programs") + f"#program-{reply.body['id']}")
        errors = reply.form_errors()
        message = "" if errors else reply.message
    return _programs_page(422, program_form=FormState(values, errors, message))


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
    if values["pairing_format"] not in FORMAT_LABELS:
        errors["pairing_format"] = "Choose how people are paired."
    group_size = None
    if values["group_size"]:
        if values["group_size"].isdigit():
            group_size = int(values["group_size"])
        else:
            errors["group_size"] = "Enter the group size as a whole number, such as 5."
    months = whole_numbers(values["review_months"])
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
                "review_months": sorted(set(months or [])),
                "cross_institution": values["cross_institution"],
            },
        )
        refuse_if_forbidden(reply)
        if reply.ok:
            flash(
                f"Cycle “{reply.body['name']}” is open. Next, import its roster and, on its "
                "pairing page, set who may mentor whom (its eligible levels) before the first run."
            )
            return redirect(url_for(".cycle", cycle_id=reply.body["id"]))
        errors = reply.form_errors()
        message = "" if errors else reply.message
    state = FormState(values, errors, message, target=program_id)
    return _programs_page(422, cycle_form=state)


def _set_cycle_state(cycle_id: str, action: str) -> ResponseReturnValue:
    cycle = staff_cycle(cycle_id)
    reply = call("enrollment", "POST", f"/api/cycles/{seg(cycle_id)}/{action}")
    refuse_if_forbidden(reply)
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
        (
            "pairing.cycle",
            "Pairing",
            "Set who may mentor whom (eligible levels) and the pairing rules, run pairing, review "
            "and publish.",
        ),
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
    program = program_of(cycle)
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
        formats=FORMAT_LABELS,
        other_pages=_other_pages(cycle_id),
    )


def _institution_name(institution_id: str) -> str:
    for institution in fetch_or("enrollment", "/api/institutions", []):
        if institution.get("id") == institution_id:
            return institution.get("name", "")
    return ""
