"""One participant of a cycle, for its coordinators: adding a single person, their details and
matching profile, conflicts of interest declared on their behalf, and withdrawing or enrolling
them again. Forms show only what the services' policy allows; a refusal comes back next to the
fields it concerns, with everything typed kept."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.contracts.enrollment import MEETING_MODES
from services.eventkit.contracts.vocabulary import TRAINING_LEVELS

from ...calls import call, can, fetch, fetch_or, seg, staff_cycle
from ...rendering import render
from .. import conflicts
from ..blueprints import coord as bp
from ..me.labels import DAY_PARTS, DAYS, MENTOR, MODE_LABELS
from ..me.participation import refused
from ..me.profile import profile_payload
from . import invitations
from .catalog import program_of, staff_only
from .participants import ROLES, STATUSES

PERSON_FIELDS = ("name", "training_level", "specialty", "pronouns")
NEW_FIELDS = ("name", "email", "training_level", "specialty", "pronouns", "role", "capacity")
TAKEN_EMAIL = "already uses this email"


def _enrollment(enrollment_id: str) -> tuple[dict, dict]:
    """The enrollment and its cycle; 403/404 unless the user coordinates the cycle."""
    enrollment = fetch("enrollment", f"/api/enrollments/{seg(enrollment_id)}")
    return enrollment, staff_cycle(enrollment["cycle_id"])


@bp.route("/enrollments/<enrollment_id>", methods=["GET", "POST"])
@staff_only
def participant(enrollment_id: str) -> ResponseReturnValue:
    enrollment, cycle = _enrollment(enrollment_id)
    person = fetch("enrollment", f"/api/people/{seg(enrollment['person_id'])}")
    roster = fetch_or("enrollment", f"/api/cycles/{seg(cycle['id'])}/enrollments", [])
    names = {e["person_id"]: e["name"] for e in roster}
    declared = conflicts.conflicts_of(enrollment_id, names)
    errors: dict[str, dict[str, str]] = {}
    values: dict[str, dict[str, Any]] = {}
    status = 200
    if request.method == "POST":
        section = request.form.get("section", "")
        if section == "person":
            data = {k: request.form.get(k, "").strip() for k in PERSON_FIELDS}
            reply = call("enrollment", "PATCH", f"/api/people/{seg(person['id'])}", json=data)
            found = {} if reply.ok else refused(reply)
            done = f"{data['name'] or person['name']}'s details are saved."
        elif section == "profile":
            data = profile_payload(
                request.form, enrollment["role"], request.form.getlist("availability")
            )
            reply = call("enrollment", "PATCH", f"/api/enrollments/{seg(enrollment_id)}", json=data)
            found = {} if reply.ok else refused(reply)
            done = f"{person['name']}'s profile for this cycle is saved."
        elif section == "conflict":
            data = {k: request.form.get(k, "") for k in ("other_person_id", "kind")}
            other = names.get(data["other_person_id"], "the mentor")
            found = conflicts.declare(enrollment_id, data["other_person_id"], data["kind"], other)
            done = ""
        elif section == "remove-conflict":
            data = {"other_person_id": request.form.get("other_person_id", "")}
            other = names.get(data["other_person_id"], "that person")
            found = conflicts.remove(enrollment_id, data["other_person_id"], other)
            done = ""
        else:
            return redirect(url_for(".participant", enrollment_id=enrollment_id))
        if not found:
            if done:
                flash(done)
            anchor = "conflicts" if "conflict" in section else section
            return redirect(url_for(".participant", enrollment_id=enrollment_id, _anchor=anchor))
        errors[section], values[section] = found, data
        status = 422
    institution_id, program_id = cycle["institution_id"], cycle["program_id"]
    return render(
        "coord/participant.html",
        status=status,
        enrollment=enrollment,
        person=person,
        cycle=cycle,
        program=program_of(cycle),
        conflicts=declared,
        mentors=conflicts.mentor_choices(cycle["id"], person["id"], declared),
        conflict_labels=conflicts.STAFF_CONFLICT_LABELS,
        can_edit_person=can("person.update", institution_id, people=(person["id"],)),
        can_update=can("enrollment.update", institution_id, program_id),
        errors=errors,
        values=values,
        roles=ROLES,
        statuses=STATUSES,
        levels=TRAINING_LEVELS,
        modes=MEETING_MODES,
        mode_labels=MODE_LABELS,
        days=DAYS,
        day_parts=DAY_PARTS,
    )


@bp.route("/cycles/<cycle_id>/participants/new", methods=["GET", "POST"])
@staff_only
def add_participant(cycle_id: str) -> ResponseReturnValue:
    cycle = staff_cycle(cycle_id)
    values: dict[str, str] = {"role": "mentee", "training_level": ""}
    errors: dict[str, str] = {}
    status = 200
    zone = invitations.zone_of(cycle)
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in NEW_FIELDS}
        invitation, problem = invitations.choice(request.form, zone)
        errors = {"invite": problem} if problem else _register_and_enroll(cycle, values, invitation)
        if not errors:
            return redirect(url_for(".participant", enrollment_id=values["enrollment_id"]))
        status = 422
    return render(
        "coord/participant_new.html",
        status=status,
        cycle=cycle,
        program=program_of(cycle),
        values=values,
        errors=errors,
        roles=ROLES,
        levels=TRAINING_LEVELS,
        can_register=can("person.create", cycle["institution_id"]),
        choices=invitations.CHOICES,
        zone=str(zone),
        invite=request.form.get("invite", ""),
        invite_at=request.form.get("invite_at", ""),
        invite_error=errors.get("invite", ""),
    )


def _register_and_enroll(
    cycle: dict, values: dict[str, str], invitation: dict[str, Any]
) -> dict[str, str]:
    """Register the person (or find them, already registered at the institution) and enroll
    them, invited as chosen; the refusal's messages per field, or {} with
    values["enrollment_id"] set."""
    person = {k: values[k] for k in ("name", "email", "training_level", "specialty", "pronouns")}
    reply = call(
        "enrollment",
        "POST",
        "/api/people",
        json={"institution_id": cycle["institution_id"], **person},
    )
    if reply.ok:
        person_id = reply.body["id"]
    else:
        errors = refused(reply)
        taken = TAKEN_EMAIL in errors.get("email", "")
        person_id = _registered(cycle["institution_id"], values["email"]) if taken else None
        if person_id is None:
            return errors
    enrollment: dict[str, Any] = {
        "person_id": person_id, "role": values["role"], "invitation": invitation,
    }  # fmt: skip
    if values["role"] == MENTOR:
        enrollment["capacity"] = values["capacity"] or None
    reply = call(
        "enrollment", "POST", f"/api/cycles/{seg(cycle['id'])}/enrollments", json=enrollment
    )
    if not reply.ok:
        errors = refused(reply)
        if "person_id" in errors:  # about the person: next to their email
            errors["email"] = errors.pop("person_id")
        return errors
    values["enrollment_id"] = reply.body["id"]
    flash(f"{reply.body['name']} is enrolled as a {values['role']} in {cycle['name']}.")
    return {}


def _registered(institution_id: str, email: str) -> str | None:
    """The id of the institution's person with exactly this email, if there is one."""
    if not email:
        return None
    found = fetch_or(
        "enrollment", "/api/people", [], params={"institution_id": institution_id, "q": email}
    )
    wanted = email.strip().lower()
    return next((p["id"] for p in found if p.get("email", "").lower() == wanted), None)
