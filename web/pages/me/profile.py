"""The person's details and matching profile per enrollment (with self-identification and
conflicts of interest, handled in taking_part.py), and their programs' guidelines."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flask import flash, request
from flask.typing import ResponseReturnValue

from services.eventkit.contracts.enrollment import MEETING_MODES as PROFILE_MODES

from ...calls import call, fetch, fetch_or
from ...identity import roles_required
from ...rendering import render
from ..blueprints import me as bp
from ..conflicts import CONFLICT_LABELS, conflicts_of
from .labels import DAY_PARTS, DAYS, IDENTITY_CHOICES, MENTEE, MENTOR, MODE_LABELS, PARTICIPANTS
from .participation import (
    active_enrollments,
    back_to,
    find,
    my_enrollments,
    refused,
    signed_in,
    split_list,
)


def profile_payload(form: Mapping[str, Any], role: str, availability: list[str]) -> dict:
    """The matching-profile fields of the edit form, as the enrollment service takes them."""
    data: dict[str, Any] = {
        "interests": split_list(form.get("interests", "")),
        "goals": form.get("goals", "").strip(),
        "languages": split_list(form.get("languages", "")),
        "meeting_mode": form.get("meeting_mode", ""),
        "availability": availability,
    }
    if role == MENTOR:
        # The service says what a capacity may be; a blank one is refused there too.
        data["capacity"] = form.get("capacity", "").strip() or None
    return data


@bp.route("/profile", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def profile() -> ResponseReturnValue:
    me = signed_in()
    if request.method == "POST":
        section = request.form.get("section", "")
        if section == "person":
            data = {
                "pronouns": request.form.get("pronouns", "").strip(),
                "specialty": request.form.get("specialty", "").strip(),
            }
            reply = call("enrollment", "PATCH", f"/api/people/{me.person_id}", json=data)
            done = "Your details are saved."
        else:
            enrollment = find(active_enrollments(), "id", section)
            data = profile_payload(
                request.form, enrollment["role"], request.form.getlist("availability")
            )
            reply = call("enrollment", "PATCH", f"/api/enrollments/{section}", json=data)
            done = (
                f"Your profile for {enrollment['program_name']} ({enrollment['cycle_name']}) "
                "is saved."
            )
        if reply.ok:
            flash(done)
            return back_to("me.profile", f"profile-{section}")
        return profile_page(422, {section: refused(reply)}, {section: data})
    return profile_page()


def profile_page(
    status: int = 200,
    errors: Mapping[str, dict[str, str]] | None = None,
    values: Mapping[str, dict[str, Any]] | None = None,
) -> ResponseReturnValue:
    """The profile page; `errors` and `values` of a refused form, by its section."""
    me = signed_in()
    person = fetch("enrollment", f"/api/people/{me.person_id}")
    enrollments = my_enrollments()
    conflicts: dict[str, tuple[list, list]] = {}
    for e in enrollments:
        if e["status"] == "active" and e["role"] == MENTEE:
            mentors = fetch_or("enrollment", f"/api/cycles/{e['cycle_id']}/mentors", [])
            declared = conflicts_of(e["id"], {m["person_id"]: m["name"] for m in mentors})
            taken = {c.other_person_id for c in declared} | {me.person_id}
            conflicts[e["id"]] = (declared, [m for m in mentors if m["person_id"] not in taken])
    return render(
        "me/profile.html",
        status=status,
        person=person,
        enrollments=enrollments,
        values=values or {},
        errors=errors or {},
        modes=PROFILE_MODES,
        mode_labels=MODE_LABELS,
        days=DAYS,
        day_parts=DAY_PARTS,
        conflicts=conflicts,
        conflict_labels=CONFLICT_LABELS,
        identity_choices=IDENTITY_CHOICES,
    )


@dataclasses.dataclass
class Guidelines:
    program_id: str
    program_name: str
    text: str
    version: int
    enrollments: list[dict]

    @property
    def awaiting(self) -> list[dict]:
        return [e for e in self.enrollments if e["guidelines_accepted_version"] != self.version]


def my_guidelines() -> list[Guidelines]:
    programs: dict[str, Guidelines] = {}
    for e in active_enrollments():
        entry = programs.setdefault(
            e["program_id"],
            Guidelines(
                e["program_id"], e["program_name"], e["guidelines"], e["guidelines_version"], []
            ),
        )
        entry.enrollments.append(e)
    return sorted(programs.values(), key=lambda p: p.program_name)


@bp.route("/guidelines", methods=["GET", "POST"])
@roles_required(*PARTICIPANTS)
def guidelines() -> ResponseReturnValue:
    programs = my_guidelines()
    error, status = "", 200
    if request.method == "POST":
        program = find(programs, "program_id", request.form.get("program_id"))
        for enrollment in program.awaiting:
            path = f"/api/enrollments/{enrollment['id']}/guidelines-acceptance"
            reply = call("enrollment", "POST", path)
            if not reply.ok:
                error, status = refused(reply).get("_form") or reply.message, 422
                break
        else:
            flash(f"You accepted the guidelines of {program.program_name}.")
            return back_to("me.guidelines", f"program-{program.program_id}")
    return render("me/guidelines.html", status=status, programs=programs, error=error)
