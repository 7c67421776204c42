"""A cycle's eligible levels on its pairing page: which training levels may be mentored or
coached and which may mentor or coach them (for families: the senior, the mid-level and each
junior place), with a preview of who they leave out, person by person, before anything runs."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, request
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict

from ...calls import call, staff_cycle
from ...identity import roles_required
from ...rendering import render, wants_fragment
from ..blueprints import pairing as bp
from .context import STAFF, TEMPLATE, api_path, back_to_page, page_context, refusal
from .level_form import FIELDS, form_back, levels_context, payload_of


@bp.post("/cycles/<cycle_id>/pairing/levels/preview")
@roles_required(*STAFF)
def preview_levels(cycle_id: str) -> Response:
    """Who the levels in the form would leave out, without saving them: the preview alone for
    htmx, the page with it otherwise."""
    found = staff_cycle(cycle_id)
    payload, errors = payload_of(request.form)
    context = levels_context(found)
    message = ""
    if not errors:
        reply = call("pairing", "POST", api_path(cycle_id, "/level-rules/preview"), json=payload)
        if reply.ok:
            context["levels"] = {**(context["levels"] or {}), **reply.body, "previewing": True}
        else:
            errors, message = refusal(reply, FIELDS)
    if errors or message:
        message = message or "Not previewed: correct the levels marked below."
    return _levels_page(found, context, request.form, errors, message, 422 if message else 200)


@bp.post("/cycles/<cycle_id>/pairing/levels")
@roles_required(*STAFF)
def save_levels(cycle_id: str) -> Response:
    """Set the cycle's eligible levels (before its first run)."""
    found = staff_cycle(cycle_id)
    payload, errors = payload_of(request.form)
    message = ""
    if not errors:
        reply = call("pairing", "PUT", api_path(cycle_id, "/level-rules"), json=payload)
        if reply.ok:
            if not wants_fragment():
                flash("Eligible levels saved. Runs of this cycle use them.")
                return back_to_page(cycle_id, "levels")
            context = page_context(found, full=False, with_rules=True)
            context.update(levels_context(found, reply.body))
            context["levels_status"] = "Eligible levels saved. Runs of this cycle use them."
            response = render("pairing/levels.html", **context)
            # The run form says the gap is now the cycle's: it comes along out of band.
            rules = render_block(TEMPLATE, "rules", oob=True, **context)
            response.set_data(response.get_data(as_text=True) + rules)
            return response
        errors, message = refusal(reply, FIELDS)
    message = message or "Not saved: correct the levels marked below."
    return _levels_page(found, levels_context(found), request.form, errors, message, 422)


def _levels_page(
    cycle: dict[str, Any],
    context: dict[str, Any],
    form: MultiDict[str, str],
    errors: dict[str, str],
    message: str,
    status: int,
) -> Response:
    """The levels section as the coordinator left it (with htmx), or the page around it."""
    context.update(levels_form=form_back(form), levels_errors=errors, levels_message=message)
    if wants_fragment():
        # A preview swaps the preview only, unless something is refused: then the whole section.
        if message:
            response = render("pairing/levels.html", status=status, cycle=cycle, **context)
            response.headers["HX-Retarget"] = "#levels"
            response.headers["HX-Reswap"] = "outerHTML"
            return response
        return render("pairing/_levels_preview.html", status=status, cycle=cycle, **context)
    page = page_context(cycle, full=True)
    page.update(context)
    return render(TEMPLATE, status=status, **page)
