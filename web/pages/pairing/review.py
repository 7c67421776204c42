"""A draft proposal arranged for the coordinator's review: the cycle's candidates, mentors with
their proposed mentees a page at a time, who is left without a pair, and what each change form
offers."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

from services.eventkit.contracts.vocabulary import SOFT_RULES, SoftRule

# Mentors (with their mentees) shown per page of a proposal; a cycle of thousands stays readable
# and each mentee's edit form stays small.
MENTORS_PER_PAGE = 20
UNMATCHED_SHOWN = 100


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
        return self._active.get(role, [])

    @functools.cached_property
    def _active(self) -> dict[str, list[dict[str, Any]]]:
        # Read several times a page from thousands of candidates: grouped once.
        found: dict[str, list[dict[str, Any]]] = {}
        for c in self.candidates:
            if c["status"] == "active":
                found.setdefault(c["role"], []).append(c)
        return found

    @property
    def places(self) -> int:
        return sum(c.get("capacity") or 1 for c in self.active("mentor"))

    @functools.cached_property
    def conflicts(self) -> list[dict[str, Any]]:
        """Declared conflicts of interest of active candidates, as pairing honours them."""
        found = [
            {
                "enrollment_id": c["enrollment_id"],
                "name": self.names[c["person_id"]],
                "other": self.names.get(conflict["other_person_id"], "Someone outside the cycle"),
                "kind": conflict["kind"],
            }
            for c in self.candidates
            if c["status"] == "active"
            for conflict in c.get("conflicts") or []
        ]
        return sorted(found, key=lambda f: (f["name"], f["other"]))


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
        return {rule.name: float(used.get(rule.name, rule.default_weight)) for rule in SOFT_RULES}

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
        taken = listed | busy | self.excluded_ids
        idle = [
            {
                "person_id": m["person_id"],
                "name": m.get("name"),
                "reason": "no mentee left after the changes to the draft",
            }
            for m in self.pool.active("mentor")
            if m["person_id"] not in taken
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

    @property
    def units(self) -> int:
        """How many groups (one per coach) or families the draft proposes, or pairs."""
        algorithm = self.proposal.get("algorithm")
        if algorithm == "groups":
            return len({p["mentor_id"] for p in self.proposal["pairs"]})
        if algorithm == "families":
            return len({(p["mentor_id"], p.get("co_mentor_id")) for p in self.proposal["pairs"]})
        return len(self.proposal["pairs"])

    @functools.cached_property
    def counts(self) -> dict[str, int]:
        return {
            "units": self.units,
            "pairs": len(self.proposal["pairs"]),
            "pinned": sum(1 for p in self.proposal["pairs"] if p.get("pinned")),
            "mentees_unmatched": len(self._unmatched("mentee", everyone=True)),
            "mentors_unmatched": len(self._unmatched("mentor", everyone=True)),
            "excluded": len(self.excluded_ids),
        }

    @functools.cached_property
    def mentor_options(self) -> list[dict[str, Any]]:
        """Mentors a mentee could be moved to: active, not left out, with room left."""
        load, excluded = self.load, self.excluded_ids
        options = []
        for mentor in self.pool.active("mentor"):
            room = (mentor.get("capacity") or 1) - load.get(mentor["person_id"], 0)
            if mentor["person_id"] not in excluded and room > 0:
                options.append(
                    {"id": mentor["person_id"], "name": mentor.get("name") or "?", "room": room}
                )
        return sorted(options, key=lambda o: o["name"])

    @functools.cached_property
    def _pair_of(self) -> dict[str, dict[str, Any]]:
        # The first pair of each mentee, as a scan in the service's order would find it.
        found: dict[str, dict[str, Any]] = {}
        for pair in self.proposal["pairs"]:
            found.setdefault(pair["mentee_id"], pair)
        return found

    @functools.cached_property
    def _unmatched_by_id(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for unmatched in self.unmatched:
            found.setdefault(unmatched["person_id"], unmatched)
        return found

    def person(self, person_id: str) -> Person | None:
        """Someone of the draft, as the change forms see them (looked up by id: the review asks
        for every card it shows)."""
        pair = self._pair_of.get(person_id)
        if pair is not None:
            name = pair.get("mentee_name") or "this mentee"
            return Person(person_id, name, "pair", f"pair-{person_id}", pair)
        names = self.pool.names
        if person_id in self.excluded_ids:
            return Person(person_id, names.get(person_id, "?"), "excluded", f"excluded-{person_id}")
        unmatched = self._unmatched_by_id.get(person_id)
        if unmatched is not None:
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
