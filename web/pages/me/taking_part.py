"""What a mentor or mentee decides about taking part, from their profile page: self-identification
for matching (only with explicit consent, which they can withdraw), conflicts of interest with the
cycle's mentors, and withdrawing from a cycle. A refusal comes back on the profile page next to
the form it concerns, with what was typed kept."""

from __future__ import annotations

from flask import flash, request
from flask.typing import ResponseReturnValue

from ...calls import call, fetch_or, seg
from ...identity import roles_required
from ..blueprints import me as bp
from ..conflicts import declare, remove
from .labels import IDENTITY_CHOICES, MENTEE, PARTICIPANTS
from .participation import active_enrollments, back_to, find, refused
from .profile import profile_page

IDENTITY_KEYS = tuple(key for key, _question, _answers in IDENTITY_CHOICES)


@bp.post("/enrollments/<enrollment_id>/identity")
@roles_required(*PARTICIPANTS)
def identity(enrollment_id: str) -> ResponseReturnValue:
    enrollment = find(active_enrollments(), "id", enrollment_id)
    section = f"identity-{enrollment_id}"
    where = f"{enrollment['program_name']} ({enrollment['cycle_name']})"
    answers = {k: request.form.get(k, "").strip() for k in IDENTITY_KEYS}
    if request.form.get("action") == "withdraw":
        payload, done = None, f"Your consent is withdrawn and your answers for {where} deleted."
    elif request.form.get("consent") != "yes":
        errors = {"consent": "Tick the box to agree, or leave the questions unanswered."}
        return profile_page(422, {section: errors}, {section: answers})
    elif not any(answers.values()):
        errors = {"_form": "Answer at least one question, or leave this part out."}
        return profile_page(422, {section: errors}, {section: answers})
    else:
        payload = {"consent": True, **{k: v for k, v in answers.items() if v}}
        done = f"Your self-identification for {where} is saved, with your consent."
    reply = call(
        "enrollment", "PATCH", f"/api/enrollments/{seg(enrollment_id)}", json={"identity": payload}
    )
    if not reply.ok:
        return profile_page(422, {section: refused(reply, depth=2)}, {section: answers})
    flash(done)
    return back_to("me.profile", section)


@bp.post("/enrollments/<enrollment_id>/conflicts")
@roles_required(MENTEE)
def conflicts(enrollment_id: str) -> ResponseReturnValue:
    enrollment = find(active_enrollments(MENTEE), "id", enrollment_id)
    section = f"conflict-{enrollment_id}"
    other = request.form.get("other_person_id", "")
    mentors = fetch_or("enrollment", f"/api/cycles/{seg(enrollment['cycle_id'])}/mentors", [])
    name = next((m["name"] for m in mentors if m["person_id"] == other), "the mentor")
    if request.form.get("section") == "remove-conflict":
        errors = remove(enrollment_id, other, name)
    else:
        errors = declare(enrollment_id, other, request.form.get("kind", ""), name)
    if errors:
        values = {"other_person_id": other, "kind": request.form.get("kind", "")}
        return profile_page(422, {section: errors}, {section: values})
    return back_to("me.profile", f"{section}s")


@bp.post("/enrollments/<enrollment_id>/withdraw")
@roles_required(*PARTICIPANTS)
def withdraw(enrollment_id: str) -> ResponseReturnValue:
    enrollment = find(active_enrollments(), "id", enrollment_id)
    section = f"withdraw-{enrollment_id}"
    reason = request.form.get("reason", "").strip()
    reply = call(
        "enrollment",
        "POST",
        f"/api/enrollments/{seg(enrollment_id)}/withdraw",
        json={"reason": reason},
    )
    if not reply.ok:
        return profile_page(422, {section: refused(reply)}, {section: {"reason": reason}})
    flash(
        f"You have withdrawn from {enrollment['program_name']} ({enrollment['cycle_name']}). "
        "Ask your coordinators if you want to take part again."
    )
    return back_to("me.profile", "programs-heading")
