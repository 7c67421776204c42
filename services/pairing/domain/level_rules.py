"""A cycle's eligible training levels per role: who may be mentored or coached and who may
mentor or coach them, or for families the levels of the senior, the mid-level and each junior
slot. Set before the cycle's first run; what they leave out is previewed person by person. Pure
Python."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError

from .. import engine

MAX_JUNIORS = 8


class CycleLevels(Aggregate):
    """The eligible-levels part of a cycle's pairing."""

    def __init__(self, cycle_id: str) -> None:
        super().__init__(cycle_id)
        self.level_rules: dict[str, Any] | None = None
        self.runs = 0

    def set_level_rules(self, pairing_format: str, rules: Mapping[str, Any]) -> None:
        if self.runs:
            raise DomainError(
                "Eligible levels are set before the cycle's first run; this cycle has been run.",
                "cycle_id",
            )
        self.record("LevelRulesSet", cycle_id=self.id, **checked(pairing_format, rules))

    def when_level_rules_set(self, p: dict[str, Any]) -> None:
        self.level_rules = {k: v for k, v in p.items() if k != "cycle_id"}

    def when_pairing_run_requested(self, p: dict[str, Any]) -> None:
        self.runs += 1


def checked(pairing_format: str, rules: Mapping[str, Any]) -> dict[str, Any]:
    """The rules as recorded, each level list in the scale's order; DomainError names the field
    at fault."""
    out: dict[str, Any] = {"min_level_gap": int(rules.get("min_level_gap", 1))}
    for name in ("mentee_levels", "mentor_levels", "senior_levels", "mid_levels"):
        out[name] = _ordered(rules.get(name) or [])
    out["junior_slots"] = [
        {"levels": _ordered(s["levels"]), "count": int(s["count"])}
        for s in rules.get("junior_slots") or []
    ]
    if pairing_format == "family":
        if out["mentee_levels"] or out["mentor_levels"]:
            raise DomainError("A family cycle names its levels by place in the family.", "format")
        if not out["senior_levels"]:
            raise DomainError("Choose at least one level for the senior.", "senior_levels")
        if not out["mid_levels"]:
            raise DomainError("Choose at least one level for the mid-level.", "mid_levels")
        if set(out["senior_levels"]) & set(out["mid_levels"]):
            raise DomainError("A level is either senior or mid-level, not both.", "mid_levels")
        if not out["junior_slots"]:
            raise DomainError("Add at least one junior place.", "junior_slots")
        seen: set[str] = set()
        for slot in out["junior_slots"]:
            if not slot["levels"]:
                raise DomainError("Each junior place needs at least one level.", "junior_slots")
            if seen & set(slot["levels"]):
                raise DomainError("A level belongs to one junior place only.", "junior_slots")
            seen |= set(slot["levels"])
        if sum(s["count"] for s in out["junior_slots"]) > MAX_JUNIORS:
            raise DomainError(f"A family takes at most {MAX_JUNIORS} juniors.", "junior_slots")
    elif any(out[k] for k in ("senior_levels", "mid_levels", "junior_slots")):
        raise DomainError("Only family cycles have senior, mid-level and junior places.", "format")
    return out


def _ordered(levels: Iterable[str]) -> list[str]:
    chosen = set(levels)
    unknown = chosen - set(engine.LEVEL_RANKS)
    if unknown:
        raise DomainError(f"Unknown training level {sorted(unknown)[0]!r}.", "levels")
    return [level for level in engine.LEVEL_RANKS if level in chosen]


def default_rules(min_level_gap: int = 2) -> dict[str, Any]:
    """The rules of a cycle that never set any: every level, the level gap alone."""
    return checked("one_to_one", {"min_level_gap": min_level_gap})


def engine_rules(
    level_rules: Mapping[str, Any] | None, cross_institution: bool, params: Mapping[str, Any]
) -> engine.Rules:
    """The engine's hard rules: the cycle's levels and gap when it set them, else the run's gap."""
    common = {"cross_institution": cross_institution, "weights": params.get("weights") or {}}
    if level_rules is None:
        return engine.Rules(min_level_gap=params["min_level_gap"], **common)
    mentees, mentors = level_rules["mentee_levels"], level_rules["mentor_levels"]
    if level_rules["junior_slots"]:
        mentees = [level for s in level_rules["junior_slots"] for level in s["levels"]]
        mentors = [*level_rules["senior_levels"], *level_rules["mid_levels"]]
    return engine.Rules(
        min_level_gap=level_rules["min_level_gap"],
        mentee_levels=frozenset(mentees) if mentees else None,
        mentor_levels=frozenset(mentors) if mentors else None,
        **common,
    )


def composition(level_rules: Mapping[str, Any] | None) -> engine.Composition | None:
    if not level_rules or not level_rules["junior_slots"]:
        return None
    return engine.Composition(
        senior_levels=frozenset(level_rules["senior_levels"]),
        mid_levels=frozenset(level_rules["mid_levels"]),
        junior_slots=tuple(
            (frozenset(s["levels"]), s["count"]) for s in level_rules["junior_slots"]
        ),
    )
