"""Mentee-choice rounds: each mentee's request goes to their first ranked mentor."""

from __future__ import annotations

from flask import Response, flash, request

from ...calls import call, staff_cycle
from ...identity import roles_required
from ...rendering import render
from ..blueprints import pairing as bp
from .context import STAFF, TEMPLATE, api_path, back_to_page, page_context, refusal


@bp.post("/cycles/<cycle_id>/pairing/choice-rounds")
@roles_required(*STAFF)
def choice_round(cycle_id: str) -> Response:
    """Start a mentee-choice round: each mentee's request goes to their first ranked mentor."""
    found = staff_cycle(cycle_id)
    errors: dict[str, str] = {}
    payload: dict[str, int] = {}
    for field, low, high, message in (
        ("response_hours", 1, 720, "Enter a whole number of hours from 1 to 720 (30 days)."),
        ("min_level_gap", 0, 10, "Enter a whole number of years from 0 to 10."),
    ):
        try:
            value = int((request.form.get(field) or "").strip())
        except ValueError:
            errors[field] = message
            continue
        if not low <= value <= high:
            errors[field] = message
        payload[field] = value
    if not errors:
        reply = call("pairing", "POST", api_path(cycle_id, "/choice-rounds"), json=payload)
        if reply.ok:
            sent = len(reply.body)
            flash(
                f"The mentee-choice round started: {sent} "
                f"{'request' if sent == 1 else 'requests'} sent to mentors."
            )
            return back_to_page(cycle_id, "choice")
        errors, general = refusal(reply, ("response_hours", "min_level_gap"))
        if general:
            errors["_form"] = general
    context = page_context(found, full=True, choice_errors=errors)
    context["page_error"] = ("The round did not start; see the form below.", "choice")
    context["choice_form"] = request.form.to_dict()
    return render(TEMPLATE, status=422, **context)


@bp.post("/cycles/<cycle_id>/pairing/choice-rounds/expire")
@roles_required(*STAFF)
def expire_requests(cycle_id: str) -> Response:
    """Move every request past its deadline on to the mentee's next choice now."""
    staff_cycle(cycle_id)
    reply = call("pairing", "POST", api_path(cycle_id, "/choice-rounds/expire"), json={})
    if not reply.ok:
        _errors, message = refusal(reply, ())
        flash(message)
    else:
        flash("Requests past their deadline moved on to each mentee's next choice.")
    return back_to_page(cycle_id, "choice")
