"""Coordinator pages for pairing a cycle: rules, runs with progress, review and edits, publish.

One page per cycle (`pairing.cycle`) holds the rules form, the draft proposal with its edit forms,
the published pairs and the mentee-choice round. Every form posts to its own route; with htmx the
route answers with the part of the page that changed, without it with a redirect back to the page
(or the page again with 422 and the message next to what was refused). This module serves the
page, the change forms and runs; edits.py and choice.py the rest.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict

from services.eventkit.contracts.vocabulary import ALGORITHM_TERMS, SOFT_RULES, Term

from ...calls import call, staff_cycle
from ...identity import roles_required
from ...rendering import htmx, render, wants_fragment
from ..blueprints import pairing as bp
from .context import (
    STAFF,
    TEMPLATE,
    api_path,
    back_to_page,
    page_args,
    page_context,
    published_context,
    refusal,
)
from .review import Review

RUN_FIELDS = (
    "algorithm",
    "min_level_gap",
    "seed",
    "juniors_per_family",
    "keep_pairs_from_cycle",
    *(f"weight_{rule.name}" for rule in SOFT_RULES),
)

# --- the page -----------------------------------------------------------------------------------


@bp.get("/cycles/<cycle_id>/pairing")
@roles_required(*STAFF)
def cycle(cycle_id: str) -> Response:
    """The pairing page of one cycle; with htmx (search, pages) just the proposal, or just the
    published pairs."""
    found = staff_cycle(cycle_id)
    page, q = page_args(request.args)
    published_page, published_q = page_args(request.args, "published_")
    if wants_fragment() and htmx.target == "published":
        return render(
            TEMPLATE, "published", **published_context(found, published_page, published_q)
        )
    context = page_context(
        found,
        full=not wants_fragment(),
        page=page,
        q=q,
        published_page=published_page,
        published_q=published_q,
    )
    return render(TEMPLATE, "proposal", **context)


@bp.get("/cycles/<cycle_id>/pairing/people/<person_id>")
@roles_required(*STAFF)
def changes(cycle_id: str, person_id: str) -> Response:
    """The change form for one person of the draft: a page of its own without JavaScript, the
    form alone when the review loads it into the person's card."""
    found = staff_cycle(cycle_id)
    page, q = page_args(request.args)
    context = page_context(found, full=False, page=page, q=q)
    review: Review | None = context["review"]
    person = review.person(person_id) if review and review.proposal["status"] == "draft" else None
    if person is None:
        abort(404)
    return render(
        "pairing/change.html",
        "change_form",
        person=person,
        wants_inline=wants_fragment(),
        **context,
    )


# --- running pairing ----------------------------------------------------------------------------


def _run_payload(
    form: MultiDict[str, str], cycle: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The run request the form describes, and the fields it could not read."""
    errors: dict[str, str] = {}
    payload: dict[str, Any] = {"algorithm": form.get("algorithm", ""), "weights": {}}

    def number(field: str, low: float, high: float, whole: bool, message: str) -> float | None:
        text = (form.get(field) or "").strip()
        if not text:
            return None
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            errors[field] = message
            return None
        if not low <= value <= high:  # also refuses nan and inf
            errors[field] = message
            return None
        return value

    for rule in SOFT_RULES:
        field = f"weight_{rule.name}"
        value = number(field, 0, 100, False, "Enter a weight from 0 to 100.")
        if value is None and field not in errors:
            errors[field] = "Enter a weight from 0 to 100 (0 switches the rule off)."
        elif value is not None:
            payload["weights"][rule.name] = value
    gap = number("min_level_gap", 0, 10, True, "Enter a whole number of years from 0 to 10.")
    if gap is None and "min_level_gap" not in errors:
        errors["min_level_gap"] = "Enter a whole number of years from 0 to 10."
    payload["min_level_gap"] = gap
    seed = number("seed", 0, 2**53, True, "Enter a whole number, or leave it empty.")
    if seed is not None:
        payload["seed"] = seed
    if cycle.get("pairing_format") == "family":
        juniors = number(
            "juniors_per_family", 1, 8, True, "Enter a whole number of juniors from 1 to 8."
        )
        if juniors is not None:
            payload["juniors_per_family"] = juniors
    earlier = (form.get("keep_pairs_from_cycle") or "").strip()
    if earlier:
        payload["keep_pairs_from_cycle"] = earlier
    return payload, errors


@bp.post("/cycles/<cycle_id>/pairing/runs")
@roles_required(*STAFF)
def run(cycle_id: str) -> Response:
    """Run pairing with the form's rules; the new draft proposal (or the form with errors)."""
    found = staff_cycle(cycle_id)
    payload, errors = _run_payload(request.form, found)
    message = ""
    if not errors:
        reply = call("pairing", "POST", api_path(cycle_id, "/runs"), json=payload)
        if reply.ok:
            summary = _run_summary(reply.body)
            if not wants_fragment():
                flash(summary)
                return back_to_page(cycle_id, "proposal")
            return _run_fragment(found, summary, reply.body)
        errors, message = refusal(reply, RUN_FIELDS)
    if not message:
        message = "Pairing did not run. Correct the rules marked below and run it again."
    context = page_context(
        found,
        full=not wants_fragment(),
        with_rules=True,
        rules_form=request.form.to_dict(),
        rules_errors=errors,
        rules_message=message,
    )
    response = render(TEMPLATE, "rules", status=422, **context)
    if wants_fragment():
        # The run form targets the proposal; a refusal belongs with the rules instead.
        response.headers["HX-Retarget"] = "#rules"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


def _run_summary(proposal: dict[str, Any]) -> str:
    label = ALGORITHM_TERMS.get(proposal.get("algorithm", ""), Term("", "Pairing")).label
    pairs = len(proposal.get("pairs") or [])
    return (
        f"Pairing ran ({label}): {pairs} {'pair' if pairs == 1 else 'pairs'} proposed, "
        f"{len(proposal.get('unmatched') or [])} without a pair. Review the draft below."
    )


def _run_fragment(cycle: dict[str, Any], summary: str, proposal: dict[str, Any]) -> Response:
    """The new proposal (as the run answered it), plus the rules form out of band so earlier
    errors disappear."""
    context = page_context(
        cycle, full=False, with_rules=True, status_message=summary, proposal=proposal
    )
    response = render(TEMPLATE, "proposal", **context)
    rules = render_block(TEMPLATE, "rules", oob=True, **context)
    response.set_data(response.get_data(as_text=True) + rules)
    return response
