"""What the pairing page of a cycle shows, read from pairing and enrollment, and the helpers its
routes share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, abort, current_app, redirect, url_for

from services.eventkit.auth import ADMIN, COORDINATOR
from services.eventkit.contracts.vocabulary import (
    ALGORITHM_TERMS,
    FORMAT_ALGORITHMS,
    SOFT_RULE_NAMES,
    SOFT_RULES,
)

from ...calls import fetch_or
from ...client import Reply
from ..conflicts import STAFF_CONFLICT_LABELS
from .level_form import levels_context
from .published import load_published
from .review import EditError, Pool, Review

STAFF = (ADMIN, COORDINATOR)
TEMPLATE = "pairing/cycle.html"
# The pairing format as the page's first sentence says it ("A one-to-one cycle").
FORMAT_PHRASES = {"one_to_one": "one-to-one", "group": "group coaching", "family": "families"}
# What a cycle of each format publishes: pairs, coaching groups or mentoring families.
UNIT_NOUNS = {"one_to_one": "pair", "group": "group", "family": "family"}
UNIT_PLURALS = {"pair": "pairs", "group": "groups", "family": "families"}
# A member's place in a group or family, as the page says it.
ROLE_LABELS = {
    "coach": "Coach",
    "member": "Member",
    "senior": "Senior resident",
    "mid": "Mid-level resident",
    "junior": "Junior",
}


def api_path(cycle_id: str, rest: str = "") -> str:
    return f"/api/cycles/{cycle_id}{rest}"


def load_pool(cycle_id: str) -> Pool:
    return Pool(fetch_or("pairing", api_path(cycle_id, "/candidates"), []))


def load_proposal(cycle_id: str) -> dict[str, Any] | None:
    return fetch_or("pairing", api_path(cycle_id, "/proposal"), None)


def page_args(source: Mapping[str, str], prefix: str = "") -> tuple[int, str]:
    """The page number and search of the draft (or, with prefix "published_", of the published
    pairs)."""
    try:
        page = int(source.get(f"{prefix}page", "1"))
    except ValueError:
        page = 1
    return page, (source.get(f"{prefix}q") or "")[:100]


def page_context(
    cycle: dict[str, Any],
    *,
    full: bool,
    page: int = 1,
    q: str = "",
    rules_form: Mapping[str, Any] | None = None,
    rules_errors: Mapping[str, str] | None = None,
    rules_message: str = "",
    edit_error: EditError | None = None,
    status_message: str = "",
    end_errors: Mapping[str, str] | None = None,
    choice_errors: Mapping[str, str] | None = None,
    with_rules: bool = False,
    proposal: dict[str, Any] | None = None,
    published_page: int = 1,
    published_q: str = "",
    published_focus: str | None = None,
) -> dict[str, Any]:
    """What the template needs; `full` adds the parts only the whole page shows, `with_rules`
    what the rules form needs when it is rendered alone. `proposal`: the draft a run or edit
    has just answered with, so it is not read again."""
    cycle_id = cycle["id"]
    pool = load_pool(cycle_id)
    if proposal is None:
        proposal = load_proposal(cycle_id)
    review = Review(proposal, pool, page, q) if proposal else None
    allowed = FORMAT_ALGORITHMS.get(cycle.get("pairing_format") or "one_to_one", ())
    noun = unit_noun(cycle)
    context: dict[str, Any] = {
        **_unit_words(cycle),
        "cycle": cycle,
        "pool": pool,
        "proposal": proposal,
        "review": review,
        "algorithms": [ALGORITHM_TERMS[name] for name in allowed],
        "algorithm_labels": {name: a.label for name, a in ALGORITHM_TERMS.items()},
        "format_label": FORMAT_PHRASES.get(cycle.get("pairing_format"), "one-to-one"),
        "soft_rules": SOFT_RULES,
        "rules_form": rules_form or _rules_defaults(proposal, allowed),
        "rules_errors": rules_errors or {},
        "rules_message": rules_message,
        "edit_error": edit_error,
        "status_message": status_message,
        "end_errors": end_errors or {},
        "choice_errors": choice_errors or {},
        "choice_form": {},
        "coordinator_home": "coord.programs" in current_app.view_functions,
        "conflict_labels": STAFF_CONFLICT_LABELS,
    }
    if review and edit_error:
        context["error_on_page"] = edit_error.card in review.cards_on_page
    if full or with_rules:
        # Longitudinal programs keep last cycle's pairs: the rules form offers the program's
        # other cycles (also when it is re-rendered with a new proposal).
        cycles = fetch_or("enrollment", f"/api/programs/{cycle['program_id']}/cycles", [])
        context["earlier_cycles"] = [c for c in cycles if c["id"] != cycle_id]
        context.update(levels_context(cycle))
    if full:
        program = fetch_or("enrollment", f"/api/programs/{cycle['program_id']}", {})
        context.update(
            program=program,
            published=load_published(cycle_id, noun, published_page, published_q, published_focus),
            requests=fetch_or("pairing", api_path(cycle_id, "/requests"), []),
        )
    return context


def published_context(cycle: dict[str, Any], page: int, q: str) -> dict[str, Any]:
    """What the published section needs when it is rendered alone (its pages, its search)."""
    return {
        **_unit_words(cycle),
        "cycle": cycle,
        "end_errors": {},
        "published": load_published(cycle["id"], unit_noun(cycle), page, q),
    }


def unit_noun(cycle: Mapping[str, Any]) -> str:
    """What the cycle publishes: "pair", "group" or "family"."""
    return UNIT_NOUNS.get(cycle.get("pairing_format") or "one_to_one", "pair")


def _unit_words(cycle: Mapping[str, Any]) -> dict[str, Any]:
    """How the page names what the cycle publishes, and its members' places."""
    noun = unit_noun(cycle)
    return {"unit_noun": noun, "unit_plural": UNIT_PLURALS[noun], "role_labels": ROLE_LABELS}


def _rules_defaults(proposal: dict[str, Any] | None, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The last run's settings, or the service's defaults."""
    settings = (proposal or {}).get("settings") or {}
    weights = settings.get("weights") or {}
    algorithm = (proposal or {}).get("algorithm")
    form: dict[str, Any] = {
        "algorithm": algorithm if algorithm in allowed else (allowed[0] if allowed else ""),
        "min_level_gap": settings.get("min_level_gap", 2),
        "seed": "",
        "juniors_per_family": 2,
        "keep_pairs_from_cycle": "",
    }
    for rule in SOFT_RULES:
        form[f"weight_{rule.name}"] = f"{weights.get(rule.name, rule.default_weight):g}"
    return form


def back_to_page(cycle_id: str, anchor: str, page: int = 1, q: str = "") -> Response:
    params: dict[str, Any] = {}
    if page > 1:
        params["page"] = page
    if q:
        params["q"] = q
    return redirect(url_for("pairing.cycle", cycle_id=cycle_id, _anchor=anchor, **params), 303)


def _service_field(key: str) -> str:
    """A service's error key ("weights.goals.value", "algorithm") as a form field name."""
    parts = key.split(".")
    if parts[0] == "weights" and len(parts) > 1 and parts[1] in SOFT_RULE_NAMES:
        return f"weight_{parts[1]}"
    return parts[0]


def refusal(reply: Reply, fields: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """A service's 4xx as messages on the form's fields, and one for the whole form."""
    if reply.status == 403:
        abort(403)
    errors: dict[str, str] = {}
    general = ""
    for key, text in reply.field_errors().items():
        field = _service_field(key)
        if field in fields:
            errors.setdefault(field, text)
        else:
            general = general or text
    if not errors:
        general = general or reply.message
    return errors, general
