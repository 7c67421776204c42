"""Coordinator pages for pairing a cycle: rules, runs with progress, review and edits, publish.

One page per cycle (`pairing.cycle`) holds the rules form, the draft proposal with its edit forms,
the published pairs and the mentee-choice round. Every form posts to its own route; with htmx the
route answers with the part of the page that changed, without it with a redirect back to the page
(or the page again with 422 and the message next to what was refused).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from jinja2_fragments.flask import render_block
from werkzeug.datastructures import MultiDict

from services.eventkit.auth import ADMIN, COORDINATOR

from ..calls import call, fetch_or, staff_cycle
from ..client import Reply
from ..identity import roles_required
from ..pages import render, wants_fragment

bp = Blueprint("pairing", __name__, url_prefix="/coordinator")

STAFF = (ADMIN, COORDINATOR)
TEMPLATE = "pairing/cycle.html"
# Mentors (with their mentees) shown per page of a proposal; a cycle of thousands stays readable
# and each mentee's edit form stays small.
MENTORS_PER_PAGE = 20
UNMATCHED_SHOWN = 100


@dataclasses.dataclass(frozen=True)
class SoftRule:
    name: str
    label: str
    hint: str
    default: float


# The pairing service's soft rules (services/pairing/engine/model.py), in its order, with the
# words coordinators see. Each scores a pair from 0 to 1 and is multiplied by its weight.
SOFT_RULES = (
    SoftRule(
        "specialty_interests",
        "Shared specialty interests",
        "How much the two lists of interests overlap (shared interests out of all listed).",
        3.0,
    ),
    SoftRule(
        "goals",
        "Mentee goals the mentor covers",
        "The share of words in the mentee's goals found among the mentor's interests.",
        2.0,
    ),
    SoftRule(
        "language",
        "Shared language",
        "Full marks when they share at least one language.",
        1.0,
    ),
    SoftRule(
        "meeting_mode",
        "Meeting mode",
        "Full marks when both want to meet the same way (in person or virtually), or either "
        "is flexible.",
        1.0,
    ),
    SoftRule(
        "ranked_interest",
        "Mentee's ranking of the mentor",
        "1 for the mentee's first choice, 0.1 less for each place below; 0 if not ranked.",
        4.0,
    ),
    SoftRule(
        "identity",
        "Shared identity (consented)",
        "Full marks when the mentor shares every identity item the mentee consented to match on.",
        1.5,
    ),
    SoftRule(
        "availability",
        "Overlapping availability",
        "The share of time slots both have free.",
        1.0,
    ),
)
RULES_BY_NAME = {rule.name: rule for rule in SOFT_RULES}


@dataclasses.dataclass(frozen=True)
class Algorithm:
    name: str
    label: str
    hint: str


ALGORITHMS = {
    a.name: a
    for a in (
        Algorithm(
            "stable",
            "Stable matching",
            "No mentee and mentor would both rather be with each other than with whom they got; "
            "the best such result for every mentee.",
        ),
        Algorithm(
            "optimal",
            "Highest total score",
            "The pairs whose scores add up to the most, within mentors' capacities.",
        ),
        Algorithm(
            "random",
            "Random (lottery)",
            "Each mentee gets a random mentor the hard rules allow. The same seed gives the same "
            "pairs.",
        ),
        Algorithm(
            "groups",
            "Coaching groups",
            "Each coach leads one group, groups as even in size as the rules allow, then the "
            "best total score.",
        ),
        Algorithm(
            "families",
            "Mentoring families",
            "A senior and a mid-level resident (PGY3 or research) with juniors who are "
            "acceptable to both.",
        ),
    )
}
# Which algorithms fit which pairing format of a cycle (the service refuses the others).
FORMAT_ALGORITHMS = {
    "one_to_one": ("stable", "optimal", "random"),
    "group": ("groups",),
    "family": ("families",),
}
FORMAT_LABELS = {"one_to_one": "one-to-one", "group": "group coaching", "family": "families"}

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
RUN_FIELDS = (
    "algorithm",
    "min_level_gap",
    "seed",
    "juniors_per_family",
    "keep_pairs_from_cycle",
    *(f"weight_{rule.name}" for rule in SOFT_RULES),
)


# --- reading what a page needs ------------------------------------------------------------------


def _pairing_path(cycle_id: str, rest: str = "") -> str:
    return f"/api/cycles/{cycle_id}{rest}"


@dataclasses.dataclass
class Pool:
    """The cycle's candidates as pairing knows them."""

    candidates: list[dict[str, Any]]

    @property
    def known(self) -> bool:
        return bool(self.candidates)

    @functools.cached_property
    def names(self) -> dict[str, str]:
        return {c["person_id"]: c.get("name") or "Unnamed person" for c in self.candidates}

    @functools.cached_property
    def roles(self) -> dict[str, str]:
        return {c["person_id"]: c["role"] for c in self.candidates}

    def active(self, role: str) -> list[dict[str, Any]]:
        return [c for c in self.candidates if c["role"] == role and c["status"] == "active"]

    @property
    def places(self) -> int:
        return sum(c.get("capacity") or 1 for c in self.active("mentor"))


def _pool(cycle_id: str) -> Pool:
    return Pool(fetch_or("pairing", _pairing_path(cycle_id, "/candidates"), []))


def _proposal(cycle_id: str) -> dict[str, Any] | None:
    return fetch_or("pairing", _pairing_path(cycle_id, "/proposal"), None)


@dataclasses.dataclass
class Review:
    """A draft proposal arranged for reading: mentors with their mentees, one page at a time."""

    proposal: dict[str, Any]
    pool: Pool
    page: int = 1
    q: str = ""

    @functools.cached_property
    def weights(self) -> dict[str, float]:
        used = (self.proposal.get("settings") or {}).get("weights") or {}
        return {rule.name: float(used.get(rule.name, rule.default)) for rule in SOFT_RULES}

    @property
    def _factor(self) -> int:
        # A family junior's score adds their scores with both the senior and the mid-level.
        return 2 if self.proposal.get("algorithm") == "families" else 1

    @property
    def per_pair_max(self) -> float:
        return self._factor * sum(self.weights.values())

    def rule_max(self, rule: str) -> float:
        return self._factor * self.weights[rule]

    @property
    def shown_rules(self) -> list[SoftRule]:
        return [rule for rule in SOFT_RULES if self.weights[rule.name] > 0]

    @functools.cached_property
    def excluded_ids(self) -> set[str]:
        return set(self.proposal.get("excluded") or [])

    @property
    def excluded(self) -> list[dict[str, Any]]:
        names, roles = self.pool.names, self.pool.roles
        reasons = {u["person_id"]: u["reason"] for u in self.proposal["unmatched"]}
        return sorted(
            (
                {
                    "person_id": p,
                    "name": names.get(p, "Unknown person"),
                    "role": roles.get(p),
                    "reason": reasons.get(p),
                }
                for p in self.excluded_ids
            ),
            key=lambda e: e["name"],
        )

    @functools.cached_property
    def load(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for pair in self.proposal["pairs"]:
            counts[pair["mentor_id"]] = counts.get(pair["mentor_id"], 0) + 1
        return counts

    @functools.cached_property
    def capacity(self) -> dict[str, int]:
        return {c["person_id"]: c.get("capacity") or 1 for c in self.pool.active("mentor")}

    def _matches(self, *names: str | None) -> bool:
        needle = self.q.strip().lower()
        return not needle or any(needle in (n or "").lower() for n in names)

    @functools.cached_property
    def groups(self) -> list[dict[str, Any]]:
        """Every mentor with their proposed mentees, in the service's order (by mentor name)."""
        by_mentor: dict[str, dict[str, Any]] = {}
        for pair in self.proposal["pairs"]:
            group = by_mentor.setdefault(
                pair["mentor_id"],
                {
                    "mentor_id": pair["mentor_id"],
                    "mentor_name": pair.get("mentor_name") or "Unnamed mentor",
                    "pairs": [],
                },
            )
            group["pairs"].append(pair)
        groups = list(by_mentor.values())
        if self.q.strip():
            groups = [
                g
                for g in groups
                if self._matches(g["mentor_name"])
                or any(
                    self._matches(p.get("mentee_name"), p.get("co_mentor_name")) for p in g["pairs"]
                )
            ]
        return groups

    per_page = MENTORS_PER_PAGE
    unmatched_shown = UNMATCHED_SHOWN

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.groups) / MENTORS_PER_PAGE))

    @property
    def current_page(self) -> int:
        return min(max(1, self.page), self.pages)

    @functools.cached_property
    def page_groups(self) -> list[dict[str, Any]]:
        start = (self.current_page - 1) * MENTORS_PER_PAGE
        return self.groups[start : start + MENTORS_PER_PAGE]

    @functools.cached_property
    def unmatched(self) -> list[dict[str, Any]]:
        """The service's unmatched people, and mentors whose mentees were all moved away since
        the run (the draft keeps no reason for them)."""
        listed = {u["person_id"] for u in self.proposal["unmatched"]}
        busy = {p["mentor_id"] for p in self.proposal["pairs"]} | {
            p["co_mentor_id"] for p in self.proposal["pairs"] if p.get("co_mentor_id")
        }
        idle = [
            {
                "person_id": m["person_id"],
                "name": m.get("name"),
                "reason": "no mentee left after the changes to the draft",
            }
            for m in self.pool.active("mentor")
            if m["person_id"] not in listed | busy | self.excluded_ids
        ]
        return [*self.proposal["unmatched"], *idle]

    def _unmatched(self, role: str, everyone: bool = False) -> list[dict[str, Any]]:
        """Who of `role` has no pair, apart from those left out (listed on their own)."""
        roles, excluded = self.pool.roles, self.excluded_ids
        return [
            u
            for u in self.unmatched
            if roles.get(u["person_id"]) == role
            and u["person_id"] not in excluded
            and (everyone or self._matches(u.get("name")))
        ]

    @property
    def unmatched_mentees(self) -> list[dict[str, Any]]:
        return self._unmatched("mentee")

    @property
    def unmatched_mentors(self) -> list[dict[str, Any]]:
        return self._unmatched("mentor")

    @functools.cached_property
    def counts(self) -> dict[str, int]:
        return {
            "pairs": len(self.proposal["pairs"]),
            "pinned": sum(1 for p in self.proposal["pairs"] if p.get("pinned")),
            "mentees_unmatched": len(self._unmatched("mentee", everyone=True)),
            "mentors_unmatched": len(self._unmatched("mentor", everyone=True)),
            "excluded": len(self.excluded_ids),
        }

    @functools.cached_property
    def mentor_options(self) -> list[dict[str, Any]]:
        """Mentors a mentee could be moved to: active, not left out, with room left."""
        load, excluded = self.load, set(self.proposal.get("excluded") or [])
        options = []
        for mentor in self.pool.active("mentor"):
            room = (mentor.get("capacity") or 1) - load.get(mentor["person_id"], 0)
            if mentor["person_id"] not in excluded and room > 0:
                options.append(
                    {"id": mentor["person_id"], "name": mentor.get("name") or "?", "room": room}
                )
        return sorted(options, key=lambda o: o["name"])

    def person(self, person_id: str) -> Person | None:
        """Someone of the draft, as the change forms see them."""
        for pair in self.proposal["pairs"]:
            if pair["mentee_id"] == person_id:
                name = pair.get("mentee_name") or "this mentee"
                return Person(person_id, name, "pair", f"pair-{person_id}", pair)
        names = self.pool.names
        if person_id in (self.proposal.get("excluded") or []):
            return Person(person_id, names.get(person_id, "?"), "excluded", f"excluded-{person_id}")
        for unmatched in self.unmatched:
            if unmatched["person_id"] == person_id:
                role = self.pool.roles.get(person_id)
                kind = "unmatched_mentee" if role == "mentee" else "unmatched_mentor"
                name = unmatched.get("name") or names.get(person_id, "?")
                return Person(person_id, name, kind, f"unmatched-{person_id}")
        return None

    @functools.cached_property
    def cards_on_page(self) -> set[str]:
        cards = {f"pair-{p['mentee_id']}" for g in self.page_groups for p in g["pairs"]}
        shown = self.unmatched_mentees[:UNMATCHED_SHOWN] + self.unmatched_mentors[:UNMATCHED_SHOWN]
        cards |= {f"unmatched-{u['person_id']}" for u in shown}
        cards |= {f"excluded-{p}" for p in self.proposal.get("excluded") or []}
        return cards

    @functools.cached_property
    def swap_options(self) -> list[dict[str, Any]]:
        return sorted(
            (
                {
                    "id": p["mentee_id"],
                    "name": p.get("mentee_name") or "?",
                    "mentor_id": p["mentor_id"],
                    "mentor_name": p.get("mentor_name") or "?",
                }
                for p in self.proposal["pairs"]
            ),
            key=lambda o: o["name"],
        )


@dataclasses.dataclass(frozen=True)
class Person:
    id: str
    name: str
    kind: str  # pair | unmatched_mentee | unmatched_mentor | excluded
    card: str  # the id of their card on the review
    pair: dict[str, Any] | None = None


@dataclasses.dataclass
class EditError:
    card: str  # the element id suffix of the card the form sits in
    field: str | None
    message: str


def _page_args(source: Mapping[str, str]) -> tuple[int, str]:
    try:
        page = int(source.get("page", "1"))
    except ValueError:
        page = 1
    return page, (source.get("q") or "")[:100]


def _context(
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
) -> dict[str, Any]:
    """What the template needs; `full` adds the parts only the whole page shows, `with_rules`
    what the rules form needs when it is rendered alone."""
    cycle_id = cycle["id"]
    pool = _pool(cycle_id)
    proposal = _proposal(cycle_id)
    review = Review(proposal, pool, page, q) if proposal else None
    allowed = FORMAT_ALGORITHMS.get(cycle.get("pairing_format") or "one_to_one", ())
    context: dict[str, Any] = {
        "cycle": cycle,
        "pool": pool,
        "proposal": proposal,
        "review": review,
        "algorithms": [ALGORITHMS[name] for name in allowed],
        "algorithm_labels": {name: a.label for name, a in ALGORITHMS.items()},
        "format_label": FORMAT_LABELS.get(cycle.get("pairing_format"), "one-to-one"),
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
    }
    if review and edit_error:
        context["error_on_page"] = edit_error.card in review.cards_on_page
    if full or with_rules:
        # Longitudinal programs keep last cycle's pairs: the rules form offers the program's
        # other cycles (also when it is re-rendered with a new proposal).
        cycles = fetch_or("enrollment", f"/api/programs/{cycle['program_id']}/cycles", [])
        context["earlier_cycles"] = [c for c in cycles if c["id"] != cycle_id]
    if full:
        program = fetch_or("enrollment", f"/api/programs/{cycle['program_id']}", {})
        context.update(
            program=program,
            pairs=_published(cycle_id, pool),
            requests=fetch_or("pairing", _pairing_path(cycle_id, "/requests"), []),
        )
    return context


def _published(cycle_id: str, pool: Pool) -> list[dict[str, Any]]:
    pairs = fetch_or("pairing", _pairing_path(cycle_id, "/pairs"), [])
    for pair in pairs:
        asked = pair.get("rematch_requested_by")
        pair["rematch_by_name"] = pool.names.get(asked) if asked else None
    # Active pairs first, then by mentor and mentee.
    return sorted(
        pairs,
        key=lambda p: (
            p["status"] != "active",
            p.get("mentor_name") or "",
            p.get("mentee_name") or "",
        ),
    )


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
        form[f"weight_{rule.name}"] = f"{weights.get(rule.name, rule.default):g}"
    return form


# --- the page -----------------------------------------------------------------------------------


@bp.get("/cycles/<cycle_id>/pairing")
@roles_required(*STAFF)
def cycle(cycle_id: str) -> Response:
    """The pairing page of one cycle; with htmx (search, pages) just the proposal."""
    found = staff_cycle(cycle_id)
    page, q = _page_args(request.args)
    fragment = wants_fragment()
    return render(TEMPLATE, "proposal", **_context(found, full=not fragment, page=page, q=q))


@bp.get("/cycles/<cycle_id>/pairing/people/<person_id>")
@roles_required(*STAFF)
def changes(cycle_id: str, person_id: str) -> Response:
    """The change form for one person of the draft: a page of its own without JavaScript, the
    form alone when the review loads it into the person's card."""
    found = staff_cycle(cycle_id)
    page, q = _page_args(request.args)
    context = _context(found, full=False, page=page, q=q)
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


def _back(cycle_id: str, anchor: str, page: int = 1, q: str = "") -> Response:
    params: dict[str, Any] = {}
    if page > 1:
        params["page"] = page
    if q:
        params["q"] = q
    return redirect(url_for("pairing.cycle", cycle_id=cycle_id, _anchor=anchor, **params), 303)


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


def _service_field(key: str) -> str:
    """A service's error key ("weights.goals.value", "algorithm") as a form field name."""
    parts = key.split(".")
    if parts[0] == "weights" and len(parts) > 1 and parts[1] in RULES_BY_NAME:
        return f"weight_{parts[1]}"
    return parts[0]


@bp.post("/cycles/<cycle_id>/pairing/runs")
@roles_required(*STAFF)
def run(cycle_id: str) -> Response:
    """Run pairing with the form's rules; the new draft proposal (or the form with errors)."""
    found = staff_cycle(cycle_id)
    payload, errors = _run_payload(request.form, found)
    message = ""
    if not errors:
        reply = call("pairing", "POST", _pairing_path(cycle_id, "/runs"), json=payload)
        if reply.ok:
            summary = _run_summary(reply.body)
            if not wants_fragment():
                flash(summary)
                return _back(cycle_id, "proposal")
            return _run_fragment(found, summary)
        errors, message = _refusal(reply, RUN_FIELDS)
    if not message:
        message = "Pairing did not run. Correct the rules marked below and run it again."
    context = _context(
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


def _refusal(reply: Reply, fields: tuple[str, ...]) -> tuple[dict[str, str], str]:
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


def _run_summary(proposal: dict[str, Any]) -> str:
    label = ALGORITHMS.get(proposal.get("algorithm", ""), Algorithm("", "Pairing", "")).label
    pairs = len(proposal.get("pairs") or [])
    return (
        f"Pairing ran ({label}): {pairs} {'pair' if pairs == 1 else 'pairs'} proposed, "
        f"{len(proposal.get('unmatched') or [])} without a pair. Review the draft below."
    )


def _run_fragment(cycle: dict[str, Any], summary: str) -> Response:
    """The new proposal, plus the rules form out of band so earlier errors disappear."""
    context = _context(cycle, full=False, with_rules=True, status_message=summary)
    response = render(TEMPLATE, "proposal", **context)
    rules = render_block(TEMPLATE, "rules", oob=True, **context)
    response.set_data(response.get_data(as_text=True) + rules)
    return response


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
    page, q = _page_args(form)
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
        reply = call("pairing", "POST", _pairing_path(cycle_id, "/proposal/edits"), json=payload)
        if reply.ok:
            summary = _edit_summary(payload, _pool(cycle_id).names)
            summary += f" Reason: {payload['reason']}"
            if not wants_fragment():
                flash(summary)
                return _back(cycle_id, "proposal", page, q)
            context = _context(found, full=False, page=page, q=q, status_message=summary)
            return render(TEMPLATE, "proposal", **context)
        errors, general = _refusal(reply, EDIT_FIELDS)
        field, text = next(iter(errors.items()), (None, general))
        error = EditError(card, field, text)
    context = _context(found, full=not wants_fragment(), page=page, q=q, edit_error=error)
    anchor = error.card if context.get("error_on_page") else "proposal-error"
    context["page_error"] = (f"Not changed: {error.message}", anchor)
    return render(TEMPLATE, "proposal", status=422, **context)


# --- publishing and published pairs -------------------------------------------------------------


@bp.post("/cycles/<cycle_id>/pairing/publish")
@roles_required(*STAFF)
def publish(cycle_id: str) -> Response:
    """Publish the draft: its pairs become real and participants are told."""
    found = staff_cycle(cycle_id)
    reply = call("pairing", "POST", _pairing_path(cycle_id, "/proposal/publish"), json={})
    if reply.ok:
        active = sum(1 for p in reply.body if p["status"] == "active")
        flash(
            f"Published. The cycle has {active} active {'pair' if active == 1 else 'pairs'}; "
            "mentors and mentees are being told."
        )
        return _back(cycle_id, "published")
    _errors, message = _refusal(reply, ())
    context = _context(found, full=True)
    context["publish_error"] = message
    context["page_error"] = (f"Not published: {message}", "proposal")
    return render(TEMPLATE, status=422, **context)


@bp.post("/cycles/<cycle_id>/pairing/pairs/<pair_id>/end")
@roles_required(*STAFF)
def end_pair(cycle_id: str, pair_id: str) -> Response:
    """End a published pair (for a rematch, a conflict, or someone leaving), with a reason."""
    found = staff_cycle(cycle_id)
    reason = (request.form.get("reason") or "").strip()
    if not reason:
        message = "Give a reason for ending the pair."
    else:
        reply = call("pairing", "POST", f"/api/pairs/{pair_id}/end", json={"reason": reason})
        if reply.ok:
            flash(
                f"The pair of {reply.body.get('mentee_name')} and {reply.body.get('mentor_name')} "
                "has ended. Run pairing again to propose a new mentor."
            )
            return _back(cycle_id, "published")
        errors, general = _refusal(reply, ("reason",))
        message = errors.get("reason") or general
    context = _context(found, full=True, end_errors={pair_id: message})
    context["page_error"] = (f"The pair did not end: {message}", f"published-{pair_id}")
    return render(TEMPLATE, status=422, **context)


# --- mentee choice ------------------------------------------------------------------------------


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
        reply = call("pairing", "POST", _pairing_path(cycle_id, "/choice-rounds"), json=payload)
        if reply.ok:
            sent = len(reply.body)
            flash(
                f"The mentee-choice round started: {sent} "
                f"{'request' if sent == 1 else 'requests'} sent to mentors."
            )
            return _back(cycle_id, "choice")
        errors, general = _refusal(reply, ("response_hours", "min_level_gap"))
        if general:
            errors["_form"] = general
    context = _context(found, full=True, choice_errors=errors)
    context["page_error"] = ("The round did not start; see the form below.", "choice")
    context["choice_form"] = request.form.to_dict()
    return render(TEMPLATE, status=422, **context)


@bp.post("/cycles/<cycle_id>/pairing/choice-rounds/expire")
@roles_required(*STAFF)
def expire_requests(cycle_id: str) -> Response:
    """Move every request past its deadline on to the mentee's next choice now."""
    staff_cycle(cycle_id)
    reply = call("pairing", "POST", _pairing_path(cycle_id, "/choice-rounds/expire"), json={})
    if not reply.ok:
        _errors, message = _refusal(reply, ())
        flash(message)
    else:
        flash("Requests past their deadline moved on to each mentee's next choice.")
    return _back(cycle_id, "choice")
