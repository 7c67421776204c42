"""What a cycle's eligible levels leave out, before any run: each person no level rule lets in,
with the rule in words, and how many each rule leaves out. The same reasons replace the generic
"no eligible mentor" of a run's unmatched. Pure Python; a sort per side, no pair by pair test."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from .. import engine
from ..engine.explain import NO_ELIGIBLE_MENTEE, NO_ELIGIBLE_MENTOR
from ..engine.families import NO_FAMILY, NO_JUNIOR, NO_PARTNER
from .level_rules import composition, engine_rules

# In mentoring families without a composition the mid-level member is a PGY3 or a research
# resident; seniors are above.
MID_LEVELS = frozenset({"PGY3", "research_resident"})

RULE_LABELS = {
    "mentee_levels": "Eligible mentee levels",
    "mentor_levels": "Eligible mentor levels",
    "junior_levels": "Eligible junior levels",
    "senior_levels": "Eligible senior levels",
    "mid_levels": "Eligible mid-level levels",
    "min_level_gap": "Minimum level gap",
    "institution": "Same institution",
}
GENERIC = frozenset({NO_ELIGIBLE_MENTOR, NO_ELIGIBLE_MENTEE, NO_FAMILY, NO_JUNIOR, NO_PARTNER})

Person = engine.Mentee | engine.Mentor


def family_split(
    mentors: Sequence[engine.Mentor], level_rules: Mapping[str, Any] | None
) -> tuple[list[engine.Mentor], list[engine.Mentor]]:
    """(seniors, mids): mids by the composition's mid levels, or PGY3 and research residents."""
    found = composition(level_rules)
    mid_levels = found.mid_levels if found else MID_LEVELS
    mids = [m for m in mentors if m.training_level in mid_levels]
    return [m for m in mentors if m.training_level not in mid_levels], mids


def left_out(
    pairing_format: str,
    level_rules: Mapping[str, Any],
    mentees: Sequence[engine.Mentee],
    mentors: Sequence[engine.Mentor],
    cross_institution: bool,
) -> list[dict[str, Any]]:
    """Everyone the level rules leave out, in role then level order: person_id, training_level,
    role, rule (a RULE_LABELS key) and reason."""
    rules = engine_rules(level_rules, cross_institution, {})
    gap = rules.min_level_gap
    mentees = [m for m in mentees if not m.withdrawn]
    mentors = [m for m in mentors if not m.withdrawn]
    out: list[dict[str, Any]] = []

    def leave(person: Person, role: str, rule: str, reason: str) -> None:
        out.append({"person_id": person.id, "training_level": person.training_level,
                    "role": role, "rule": rule, "reason": reason})  # fmt: skip

    def admitted(people: Sequence[Person], role: str, rule: str, levels) -> list[Person]:
        kept = []
        for person in people:
            if levels is not None and person.training_level not in levels:
                leave(person, role, rule, engine.level_refusal(person.training_level, role))
            else:
                kept.append(person)
        return kept

    if pairing_format == "family":
        found = composition(level_rules)
        seniors, mids = family_split(mentors, level_rules)
        juniors = admitted(mentees, "junior", "junior_levels", rules.mentee_levels)
        seniors = admitted(seniors, "senior", "senior_levels", found and found.senior_levels)
        mids = admitted(mids, "mid-level", "mid_levels", found and found.mid_levels)
        above: list[tuple[str, Sequence[Person]]] = [("senior", seniors), ("mid-level", mids)]
        below: list[tuple[str, Sequence[Person]]] = [("junior", juniors)]
    else:
        role, over = ("member", "coach") if pairing_format == "group" else ("mentee", "mentor")
        mentees = admitted(mentees, role, "mentee_levels", rules.mentee_levels)
        mentors = admitted(mentors, over, "mentor_levels", rules.mentor_levels)
        above, below = [(over, mentors)], [(role, mentees)]

    def group(person: Person) -> str:
        return "" if cross_institution else person.institution_id

    def extreme(people: Sequence[Person], pick) -> dict[str, int]:
        found: dict[str, int] = {}
        for p in people:
            key = group(p)
            found[key] = pick(found.get(key, p.level_rank), p.level_rank)
        return found

    # Each lower person needs someone of every upper place high enough above them, and each upper
    # person someone low enough below; the highest and lowest level per institution decide.
    where = "in the cycle" if cross_institution else "at their institution"
    sides = [(lo, up, max, 1, "above") for lo in below for up in above]
    sides += [(up, lo, min, -1, "below") for lo in below for up in above]
    for (role, people), (other_role, others), pick, sign, side in sides:
        reach = extreme(others, pick)
        for person in people:
            found = reach.get(group(person))
            if found is None:
                leave(person, role, "institution", f"no eligible {other_role} {where}")
            elif sign * (found - person.level_rank) < gap:
                leave(person, role, "min_level_gap",
                      f"no eligible {other_role} is {gap} or more training years {side} "
                      f"{person.training_level}")  # fmt: skip
    first: dict[str, dict[str, Any]] = {}
    for row in out:  # one reason per person: the first rule that leaves them out
        first.setdefault(row["person_id"], row)
    return list(first.values())


def counts(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """How many people each rule leaves out, in RULE_LABELS order."""
    found = Counter(r["rule"] for r in rows)
    return [
        {"rule": rule, "label": label, "count": found[rule]}
        for rule, label in RULE_LABELS.items()
        if found[rule]
    ]


def name_the_rule(unmatched: dict[str, str], rows: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """A run's reasons with each generic "no eligible ..." replaced by the level rule behind it."""
    by_person = {r["person_id"]: r["reason"] for r in rows}
    return {
        person: by_person[person] if reason in GENERIC and person in by_person else reason
        for person, reason in unmatched.items()
    }
