"""Groups and families, the units a group-coaching or families cycle publishes in place of
one-to-one pairs: who is in each, and what a publish adds to the units already active. Pure
Python."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

GROUP, FAMILY = "group", "family"


def unit_id_for(kind: str, cycle_id: str, run_id: str, lead_id: str) -> str:
    """Stable ids: publishing the same run twice cannot form a group or family twice."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{kind}/{cycle_id}/{run_id}/{lead_id}"))


def group_unit(p: dict[str, Any]) -> dict[str, Any]:
    """A GroupFormed event as a unit: the coach leads, every other member is a mentee."""
    roles = {m: "member" for m in p["member_ids"]}
    return {"unit_id": p["group_id"], "kind": GROUP, "lead_id": p["coach_id"], "mid_id": None,
            "member_ids": sorted(p["member_ids"]), "roles": {**roles, p["coach_id"]: "coach"},
            "active": True}  # fmt: skip


def family_unit(p: dict[str, Any]) -> dict[str, Any]:
    """A FamilyFormed event as a unit: the senior leads with the mid-level; juniors are mentees."""
    roles = {j: "junior" for j in p["junior_ids"]}
    return {"unit_id": p["family_id"], "kind": FAMILY, "lead_id": p["senior_id"],
            "mid_id": p["mid_id"], "member_ids": sorted(p["junior_ids"]),
            "roles": {**roles, p["senior_id"]: "senior", p["mid_id"]: "mid"},
            "active": True}  # fmt: skip


def unit_pins(unit: dict[str, Any]) -> list[tuple[str, str]]:
    """A unit as the (mentee, mentor) pins a re-run keeps: each member with the coach; each
    junior with the senior and with the mid-level."""
    mentors = [m for m in (unit["lead_id"], unit["mid_id"]) if m]
    return [(member, mentor) for member in unit["member_ids"] for mentor in mentors]


def groups_to_form(
    draft: dict[str, Any], active: Iterable[dict[str, Any]]
) -> list[tuple[str | None, str, list[str]]]:
    """(id of the active group it extends or None, coach, every member) for each coach whose
    group the draft forms or grows. A mentee already in another coach's active group stays
    there."""
    groups = {u["lead_id"]: u for u in active if u["kind"] == GROUP}
    placed = {m: u["lead_id"] for u in groups.values() for m in u["member_ids"]}
    wanted: dict[str, set[str]] = {}
    for mentee_id, pair in draft["pairs"].items():
        if placed.get(mentee_id, pair["mentor_id"]) == pair["mentor_id"]:
            wanted.setdefault(pair["mentor_id"], set()).add(mentee_id)
    formed = []
    for coach_id, members in sorted(wanted.items()):
        current = groups.get(coach_id)
        everyone = sorted(members | set(current["member_ids"] if current else ()))
        if current is None or everyone != current["member_ids"]:
            formed.append((current["unit_id"] if current else None, coach_id, everyone))
    return formed


def families_to_form(
    draft: dict[str, Any], active: Iterable[dict[str, Any]]
) -> list[tuple[str | None, dict[str, Any]]]:
    """(id of the active family it extends or None, family) for each family the draft forms or
    grows. A family keeps the juniors the coordinator's changes left with its senior or mid."""
    current = {(u["lead_id"], u["mid_id"]): u for u in active if u["kind"] == FAMILY}
    placed = {j for u in current.values() for j in u["member_ids"]}
    formed = []
    for family in draft.get("families", []):
        core = (family["senior_id"], family["mid_id"])
        juniors = set()
        for junior in family["junior_ids"]:
            pair = draft["pairs"].get(junior)
            if pair and {pair["mentor_id"], pair.get("co_mentor_id")} & set(core):
                juniors.add(junior)
        existing = current.get(core)
        kept = set(existing["member_ids"]) if existing else set()
        everyone = sorted(kept | (juniors - placed))
        if everyone and (existing is None or everyone != existing["member_ids"]):
            formed.append(
                (
                    existing["unit_id"] if existing else None,
                    {"senior_id": core[0], "mid_id": core[1], "junior_ids": everyone},
                )
            )
    return formed
