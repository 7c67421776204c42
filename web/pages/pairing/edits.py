"""Changing the draft proposal, publishing it, and ending published pairs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, flash, request

from ...calls import call, staff_cycle
from ...identity import roles_required
from ...rendering import render, wants_fragment
from ..blueprints import pairing as bp
from .context import (
    STAFF,
    TEMPLATE,
    api_path,
    back_to_page,
    load_pool,
    page_args,
    page_context,
    refusal,
    unit_noun,
)
from .review import EditError

EDIT_LABELS = {
    "move": "Move",
    "swap": "Swap",
    "unassign": "Unassign",
    "pin": "Pin",
    "unpin": "Unpin",
    "exclude": "Leave out",
    "include": "Include again",
}
# Form fields whose errors are shown on the field itself; anything else goes above the form.
EDIT_FIELDS = ("reason", "mentor_id", "other_mentee_id")

# --- editing the draft --------------------------------------------------------------------------


def _edit_summary(payload: dict[str, Any], names: Mapping[str, str]) -> str:
    who = names.get(payload["person_id"], "That person")
    mentor = names.get(payload.get("mentor_id") or "", "the chosen mentor")
    other = names.get(payload.get("other_mentee_id") or "", "the other mentee")
    return {
        "move": f"{who} is now proposed with {mentor}.",
        "swap": f"{who} and {other} swapped mentors.",
        "unassign": f"{who} no longer has a mentor in the proposal.",
        "pin": f"{who} is pinned to their mentor: a new run keeps the pair.",
        "unpin": f"{who} is no longer pinned: a new run may change the pair.",
        "exclude": f"{who} is left out of pairing.",
        "include": f"{who} is back in the pool for the next run.",
    }.get(payload["action"], "The proposal changed.")


@bp.post("/cycles/<cycle_id>/pairing/edits")
@roles_required(*STAFF)
def edit(cycle_id: str) -> Response:
    """One change to the draft (move, swap, unassign, pin, unpin, leave out, include), with a
    reason; the service checks it against the hard rules."""
    found = staff_cycle(cycle_id)
    form = request.form
    page, q = page_args(form)
    action = form.get("action", "")
    person_id = form.get("person_id", "")
    if action == "exclude_mentor":  # leaving out a pair's mentor, from the pair's card
        action, person_id = "exclude", form.get("current_mentor_id", "")
    card = form.get("card") or person_id
    payload = {
        "action": action,
        "person_id": person_id,
        "mentor_id": form.get("mentor_id") or None,
        "other_mentee_id": form.get("other_mentee_id") or None,
        "reason": (form.get("reason") or "").strip(),
    }
    if not payload["reason"]:
        error = EditError(card, "reason", "Give a reason for the change.")
    elif action not in EDIT_LABELS:
        error = EditError(card, None, "Choose one of the changes offered.")
    else:
        reply = call("pairing", "POST", api_path(cycle_id, "/proposal/edits"), json=payload)
        if reply.ok:
            summary = _edit_summary(payload, load_pool(cycle_id).names)
            summary += f" Reason: {payload['reason']}"
            if not wants_fragment():
                flash(summary)
                return back_to_page(cycle_id, "proposal", page, q)
            context = page_context(
                found, full=False, page=page, q=q, status_message=summary, proposal=reply.body
            )
            return render(TEMPLATE, "proposal", **context)
        errors, general = refusal(reply, EDIT_FIELDS)
        field, text = next(iter(errors.items()), (None, general))
        error = EditError(card, field, text)
    context = page_context(found, full=not wants_fragment(), page=page, q=q, edit_error=error)
    anchor = error.card if context.get("error_on_page") else "proposal-error"
    context["page_error"] = (f"Not changed: {error.message}", anchor)
    return render(TEMPLATE, "proposal", status=422, **context)


# --- publishing and published pairs -------------------------------------------------------------


@bp.post("/cycles/<cycle_id>/pairing/publish")
@roles_required(*STAFF)
def publish(cycle_id: str) -> Response:
    """Publish the draft: its pairs become real and participants are told."""
    found = staff_cycle(cycle_id)
    reply = call("pairing", "POST", api_path(cycle_id, "/proposal/publish"), json={})
    if reply.ok:
        active = sum(1 for p in reply.body if p["status"] == "active")
        flash(
            f"Published. The cycle has {active} active {'pair' if active == 1 else 'pairs'}; "
            "mentors and mentees are being told."
        )
        return back_to_page(cycle_id, "published")
    _errors, message = refusal(reply, ())
    context = page_context(found, full=True)
    context["publish_error"] = message
    context["page_error"] = (f"Not published: {message}", "proposal")
    return render(TEMPLATE, status=422, **context)


@bp.post("/cycles/<cycle_id>/pairing/pairs/<pair_id>/end")
@roles_required(*STAFF)
def end_pair(cycle_id: str, pair_id: str) -> Response:
    """End a published pair, group or family (for a rematch, a conflict, or someone leaving),
    with a reason."""
    found = staff_cycle(cycle_id)
    noun = unit_noun(found)
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        message = f"Give a reason for ending the {noun}."
    else:
        reply = call("pairing", "POST", f"/api/pairs/{pair_id}/end", json={"reason": reason})
        if reply.ok:
            if noun == "pair":
                flash(
                    f"The pair of {reply.body.get('mentee_name')} and "
                    f"{reply.body.get('mentor_name')} has ended. Run pairing again to propose a "
                    "new mentor."
                )
            else:
                flash(f"The {noun} has ended. Run pairing again to place its members afresh.")
            return back_to_page(cycle_id, "published")
        errors, general = refusal(reply, ("reason",))
        message = errors.get("reason") or general
    context = page_context(found, full=True, end_errors={pair_id: message}, published_focus=pair_id)
    context["page_error"] = (f"The {noun} did not end: {message}", f"published-{pair_id}")
    return render(TEMPLATE, status=422, **context)
