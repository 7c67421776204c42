"""A cycle's participants: search, withdraw and enroll again; who has been invited and who has
signed in."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...calls import call, fetch, seg, staff_cycle
from ...client import Reply
from ...identity import safe_next
from ...rendering import render, wants_fragment
from ..blueprints import coord as bp
from . import invitations
from .catalog import catalog, program_of, refuse_if_forbidden, staff_only

ROLES = {"mentor": "Mentor", "mentee": "Mentee"}
STATUSES = {"active": "Active", "withdrawn": "Withdrawn"}

# A long roster is searched, not scrolled: one page shows at most this many people.
MAX_SHOWN = 200


@bp.get("/participants")
@staff_only
def participants() -> ResponseReturnValue:
    cycle_id = request.args.get("cycle", "").strip()
    if not cycle_id:
        choices = [
            (entry.institution, p.program, c)
            for entry in catalog()
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
    shown = people[:MAX_SHOWN]
    invited = invitations.annotate(cycle, shown)
    return render(
        "coord/participants.html",
        fragment="results",
        cycle=cycle,
        program=program_of(cycle),
        people=shown,
        invited=invited,
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
    refuse_if_forbidden(reply)
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
