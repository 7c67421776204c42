"""A cycle's proposal and what it publishes: the draft a run proposes, coordinators' edits to it,
publishing, and the published pairs, coaching groups and families (ended, or a rematch asked
for). A groups or families run publishes groups or families only, never their members as pairs.
Pure Python."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError

from .units import (
    FAMILY,
    GROUP,
    families_to_form,
    family_unit,
    group_unit,
    groups_to_form,
    unit_id_for,
    unit_pins,
)

# (mentee id, mentor id) -> (hard-rule violations, score, score breakdown)
PairCheck = Callable[[str, str], tuple[list[str], float, dict[str, float]]]


def pair_id_for(cycle_id: str, mentee_id: str, mentor_id: str, run_id: str) -> str:
    """Stable ids: publishing the same run twice cannot create a pair twice."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"pair/{cycle_id}/{run_id}/{mentee_id}/{mentor_id}"))


class ProposalAndPairs(Aggregate):
    """The proposal and pairs part of a cycle's pairing (`CyclePairing` joins it with mentee
    choice, on the one stream of the cycle)."""

    def __init__(self, cycle_id: str) -> None:
        super().__init__(cycle_id)
        self.draft: dict[str, Any] | None = None
        self.excluded: set[str] = set()
        self.pairs: dict[str, dict[str, Any]] = {}  # published pair id -> pair
        self.units: dict[str, dict[str, Any]] = {}  # group or family id -> unit (see units.py)

    # --- reading state -------------------------------------------------------------------------

    def active_pairs(self) -> list[dict[str, Any]]:
        return [p for p in self.pairs.values() if p["active"]]

    def active_units(self) -> list[dict[str, Any]]:
        return [u for u in self.units.values() if u["active"]]

    def pins(self) -> list[tuple[str, str]]:
        """Pairs a re-run keeps: pinned draft pairs, every active published pair, and the
        members of every active group or family."""
        pins = {(p["mentee_id"], p["mentor_id"]) for p in self.active_pairs()}
        pins |= {pin for unit in self.active_units() for pin in unit_pins(unit)}
        if self.draft:
            pins |= {(m, p["mentor_id"]) for m, p in self.draft["pairs"].items() if p["pinned"]}
        return sorted(pins)

    def _draft(self) -> dict[str, Any]:
        if self.draft is None:
            raise DomainError("There is no proposal to change; run pairing first.")
        return self.draft

    # --- commands ------------------------------------------------------------------------------

    def propose(self, run_id: str, run: dict[str, Any], proposal: dict[str, Any]) -> None:
        self.record("PairingRunRequested", run_id=run_id, cycle_id=self.id, **run)
        self.record("ProposalGenerated", run_id=run_id, cycle_id=self.id, **proposal)

    def edit(
        self,
        action: str,
        person_id: str,
        reason: str,
        check: PairCheck,
        capacity_of: Callable[[str], int],
        mentor_id: str | None = None,
        other_mentee_id: str | None = None,
    ) -> None:
        draft = self._draft()
        reason = (reason or "").strip()
        if not reason:
            raise DomainError("Give a reason for the change.", "reason")
        pairs = draft["pairs"]
        extra: dict[str, Any] = {}
        if draft["algorithm"] == "families" and action in ("move", "swap"):
            raise DomainError(
                "Families are changed by pinning, excluding and running again.", "action"
            )
        if action == "move":
            if not mentor_id:
                raise DomainError("Choose the mentor to move to.", "mentor_id")
            current = pairs.get(person_id, {}).get("mentor_id")
            if current == mentor_id:
                raise DomainError("That mentee is already with that mentor.", "mentor_id")
            load = sum(1 for p in pairs.values() if p["mentor_id"] == mentor_id)
            if load >= capacity_of(mentor_id):
                raise DomainError("That mentor has no room left.", "mentor_id")
            extra = self._checked(check, person_id, mentor_id, "mentor_id")
        elif action == "swap":
            if not other_mentee_id or other_mentee_id not in pairs or person_id not in pairs:
                raise DomainError("Swap two mentees who both have a mentor.", "other_mentee_id")
            mine, theirs = pairs[person_id]["mentor_id"], pairs[other_mentee_id]["mentor_id"]
            first = self._checked(check, person_id, theirs, "other_mentee_id")
            second = self._checked(check, other_mentee_id, mine, "other_mentee_id")
            extra = {
                **first,
                "other_score": second["score"],
                "other_breakdown": second["breakdown"],
            }
        elif action in ("unassign", "pin", "unpin"):
            if person_id not in pairs:
                raise DomainError("That mentee has no mentor in the proposal.", "person_id")
            mentor_id = pairs[person_id]["mentor_id"]
        elif action == "exclude":
            if person_id in self.excluded:
                raise DomainError("That person is excluded already.", "person_id")
        elif action == "include":
            if person_id not in self.excluded:
                raise DomainError("That person is not excluded.", "person_id")
        else:
            raise DomainError("Unknown change.", "action")
        self.record(
            "ProposalEdited", run_id=draft["run_id"], cycle_id=self.id, action=action,
            person_id=person_id, mentor_id=mentor_id, other_mentee_id=other_mentee_id,
            reason=reason, **extra,
        )  # fmt: skip

    @staticmethod
    def _checked(check: PairCheck, mentee_id: str, mentor_id: str, field: str) -> dict[str, Any]:
        broken, total, breakdown = check(mentee_id, mentor_id)
        if broken:
            raise DomainError(f"Not allowed: {'; '.join(broken)}.", field)
        return {"score": total, "breakdown": breakdown}

    def publish(self) -> None:
        draft = self._draft()
        run_id = draft["run_id"]
        counts = {"pairs_created": 0, "groups_formed": 0, "families_formed": 0}
        if draft["algorithm"] == "groups":
            counts["groups_formed"] = self._form_groups(draft)
        elif draft["algorithm"] == "families":
            counts["families_formed"] = self._form_families(draft)
        else:
            counts["pairs_created"] = self._create_pairs(draft)
        self.record("PairingPublished", run_id=run_id, cycle_id=self.id, **counts)

    def _create_pairs(self, draft: dict[str, Any]) -> int:
        active = {(p["mentee_id"], p["mentor_id"]) for p in self.active_pairs()}
        created = 0
        for mentee_id, pair in sorted(draft["pairs"].items()):
            if (mentee_id, pair["mentor_id"]) in active:
                continue
            self.record(
                "PairCreated",
                pair_id=pair_id_for(self.id, mentee_id, pair["mentor_id"], draft["run_id"]),
                cycle_id=self.id, run_id=draft["run_id"], mentee_id=mentee_id,
                mentor_id=pair["mentor_id"], score=pair["score"],
            )  # fmt: skip
            created += 1
        return created

    def _form_groups(self, draft: dict[str, Any]) -> int:
        """Each coach's group, once, with every member: a re-run grows an active group (same
        id) rather than forming a second one."""
        formed = groups_to_form(draft, self.active_units())
        for group_id, coach_id, member_ids in formed:
            self.record(
                "GroupFormed",
                group_id=group_id or unit_id_for(GROUP, self.id, draft["run_id"], coach_id),
                cycle_id=self.id, run_id=draft["run_id"], coach_id=coach_id, member_ids=member_ids,
            )  # fmt: skip
        return len(formed)

    def _form_families(self, draft: dict[str, Any]) -> int:
        formed = families_to_form(draft, self.active_units())
        for family_id, family in formed:
            self.record(
                "FamilyFormed",
                family_id=family_id
                or unit_id_for(FAMILY, self.id, draft["run_id"], family["senior_id"]),
                cycle_id=self.id, run_id=draft["run_id"], **family,
            )  # fmt: skip
        return len(formed)

    def end_pair(self, pair_id: str, reason: str) -> None:
        """End a pair, or a whole group or family (`pair_id` is then its id)."""
        noun = self.units[pair_id]["kind"] if pair_id in self.units else "pair"
        if not (reason or "").strip():
            raise DomainError(f"Give a reason for ending the {noun}.", "reason")
        if pair_id in self.units:
            unit = self._active_unit(pair_id)
            key = "group_id" if unit["kind"] == GROUP else "family_id"
            event = "GroupEnded" if unit["kind"] == GROUP else "FamilyEnded"
            self.record(event, **{key: pair_id}, cycle_id=self.id, reason=reason.strip())
            return
        pair = self._active(pair_id)
        self.record(
            "PairEnded", pair_id=pair_id, cycle_id=self.id, mentee_id=pair["mentee_id"],
            mentor_id=pair["mentor_id"], reason=reason.strip(),
        )  # fmt: skip

    def request_rematch(self, pair_id: str, person_id: str, reason: str) -> None:
        """A member of a pair, group or family asks to be paired anew."""
        if pair_id in self.units:
            members = set(self._active_unit(pair_id)["roles"])
        else:
            pair = self._active(pair_id)
            members = {pair["mentee_id"], pair["mentor_id"]}
        if person_id not in members:
            raise DomainError("Only a member can ask for a rematch.", "pair_id")
        self.record(
            "RematchRequested", pair_id=pair_id, cycle_id=self.id, person_id=person_id,
            reason=(reason or "").strip(),
        )  # fmt: skip

    def _active(self, pair_id: str) -> dict[str, Any]:
        pair = self.pairs.get(pair_id)
        if pair is None or not pair["active"]:
            raise DomainError("No such active pair.", "pair_id")
        return pair

    def _active_unit(self, unit_id: str) -> dict[str, Any]:
        unit = self.units[unit_id]
        if not unit["active"]:
            raise DomainError(f"That {unit['kind']} has ended already.", "pair_id")
        return unit

    # --- folding events ------------------------------------------------------------------------

    def when_proposal_generated(self, p: dict[str, Any]) -> None:
        self.draft = draft_from_proposal(p)

    def when_proposal_edited(self, p: dict[str, Any]) -> None:
        assert self.draft is not None
        apply_edit(self.draft, self.excluded, p)

    def when_pair_created(self, p: dict[str, Any]) -> None:
        self.pairs[p["pair_id"]] = {
            "pair_id": p["pair_id"], "mentee_id": p["mentee_id"], "mentor_id": p["mentor_id"],
            "active": True,
        }  # fmt: skip

    def when_pairing_published(self, p: dict[str, Any]) -> None:
        self.draft = None

    def when_pair_ended(self, p: dict[str, Any]) -> None:
        self.pairs[p["pair_id"]]["active"] = False

    def when_group_formed(self, p: dict[str, Any]) -> None:
        self.units[p["group_id"]] = group_unit(p)

    def when_family_formed(self, p: dict[str, Any]) -> None:
        self.units[p["family_id"]] = family_unit(p)

    def when_group_ended(self, p: dict[str, Any]) -> None:
        self.units[p["group_id"]]["active"] = False

    def when_family_ended(self, p: dict[str, Any]) -> None:
        self.units[p["family_id"]]["active"] = False


def draft_from_proposal(p: dict[str, Any]) -> dict[str, Any]:
    """The draft a ProposalGenerated event describes (shared by the aggregate and the read model)."""
    return {
        "run_id": p["run_id"],
        "algorithm": p["algorithm"],
        "pairs": {
            x["mentee_id"]: {
                "mentor_id": x["mentor_id"],
                "co_mentor_id": x.get("co_mentor_id"),
                "score": x["score"],
                "breakdown": x["breakdown"],
                "pinned": x.get("pinned", False),
            }
            for x in p["pairs"]
        },
        "families": p.get("families", []),
        "unmatched": {u["person_id"]: u["reason"] for u in p["unmatched"]},
        "blocking_pairs": p.get("blocking_pairs"),
    }


def apply_edit(draft: dict[str, Any], excluded: set[str], p: dict[str, Any]) -> None:
    """Apply a ProposalEdited event to a draft (shared by the aggregate and the read model)."""
    pairs, unmatched = draft["pairs"], draft["unmatched"]
    who, action = p["person_id"], p["action"]
    if action == "move":
        pairs[who] = {"mentor_id": p["mentor_id"], "score": p["score"],
                      "breakdown": p["breakdown"], "pinned": False}  # fmt: skip
        unmatched.pop(who, None)
    elif action == "swap":
        other = p["other_mentee_id"]
        mine, theirs = pairs[who]["mentor_id"], pairs[other]["mentor_id"]
        pairs[who] = {"mentor_id": theirs, "score": p["score"],
                      "breakdown": p["breakdown"], "pinned": False}  # fmt: skip
        pairs[other] = {"mentor_id": mine, "score": p["other_score"],
                        "breakdown": p["other_breakdown"], "pinned": False}  # fmt: skip
    elif action == "unassign":
        pairs.pop(who)
        unmatched[who] = f"removed by a coordinator: {p['reason']}"
    elif action in ("pin", "unpin"):
        pairs[who]["pinned"] = action == "pin"
    elif action == "exclude":
        excluded.add(who)
        for mentee_id in [m for m, x in pairs.items() if m == who or x["mentor_id"] == who]:
            pairs.pop(mentee_id)
            unmatched[mentee_id] = f"excluded by a coordinator: {p['reason']}"
        if who not in pairs and who not in unmatched:
            unmatched[who] = f"excluded by a coordinator: {p['reason']}"
    elif action == "include":
        excluded.discard(who)
