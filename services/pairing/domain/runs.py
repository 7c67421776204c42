"""How a run works, pure Python: which algorithms a cycle's format allows, the engine's rules
from the run's settings, running the engine, turning its result into a proposal, and checking a
coordinator's edit or a mentee's choices against the hard rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from services.eventkit.aggregate import DomainError
from services.eventkit.contracts.vocabulary import FORMAT_ALGORITHMS

from .. import engine
from . import level_preview, level_rules


def check_algorithm(pairing_format: str, algorithm: str) -> None:
    allowed = FORMAT_ALGORITHMS.get(pairing_format, ())
    if algorithm not in allowed:
        raise DomainError(
            f"A {pairing_format.replace('_', '-')} cycle is paired with: {', '.join(allowed)}.",
            "algorithm",
        )


def check_pool(mentees: list[engine.Mentee], mentors: list[engine.Mentor]) -> None:
    if not mentees or not mentors:
        raise DomainError(
            "The cycle needs at least one active mentee and one active mentor.", "cycle_id"
        )


def check_previous_cycle(cycle: Mapping[str, Any], previous: Mapping[str, Any]) -> None:
    """Pairs are kept only from an earlier cycle of the same program."""
    if previous["program_id"] != cycle["program_id"] or previous["id"] == cycle["id"]:
        raise DomainError(
            "Pairs are kept from an earlier cycle of the same program.", "keep_pairs_from_cycle"
        )


def family_pins(
    pins: list[tuple[str, str]], mentors: list[engine.Mentor], mid_ids: set[str]
) -> list[tuple[str, str]]:
    """Published family pairs as the engine's family pins: each core (mid, senior) and each junior
    with their senior."""
    mentor_ids = {m.id for m in mentors}
    by_junior: dict[str, dict[str, str]] = {}
    for junior, mentor in pins:
        if mentor in mentor_ids:
            kind = "mid" if mentor in mid_ids else "senior"
            by_junior.setdefault(junior, {})[kind] = mentor
    cores, juniors = set(), set()
    for junior, family in by_junior.items():
        if "senior" in family:
            juniors.add((junior, family["senior"]))
            if "mid" in family:
                cores.add((family["mid"], family["senior"]))
        elif "mid" in family:
            juniors.add((junior, family["mid"]))
    return sorted(cores) + sorted(juniors)


def rules_for(
    cycle: Mapping[str, Any], params: Mapping[str, Any], levels: Mapping[str, Any] | None = None
) -> engine.Rules:
    """The run's hard rules: the cycle's eligible levels when it set them (`levels`)."""
    return level_rules.engine_rules(levels, bool(cycle["cross_institution"]), params)


def run_engine(
    algorithm: str,
    mentees: list[engine.Mentee],
    mentors: list[engine.Mentor],
    rules: engine.Rules,
    params: dict[str, Any],
    pinned: list[tuple[str, str]],
    excluded: set[str],
) -> engine.Result:
    common = {"pinned": pinned, "excluded": frozenset(excluded)}
    if algorithm == "stable":
        return engine.stable(mentees, mentors, rules, **common)
    if algorithm == "optimal":
        return engine.optimal(
            mentees,
            mentors,
            rules,
            candidates_per_mentee=params.get("candidates_per_mentee"),
            **common,
        )
    if algorithm == "random":
        return engine.random_pairing(mentees, mentors, rules, seed=params["seed"], **common)
    if algorithm == "groups":
        return engine.groups(mentees, mentors, rules, group_size=params["group_size"], **common)
    if algorithm == "families":
        levels = params.get("level_rules")
        seniors, mids = level_preview.family_split(mentors, levels)
        return engine.families(
            seniors, mids, mentees, rules,
            juniors_per_family=params.get("juniors_per_family") or 2,
            pinned=family_pins(pinned, mentors, {m.id for m in mids}),
            excluded=frozenset(excluded), composition=level_rules.composition(levels),
        )  # fmt: skip
    raise ValueError(f"unknown algorithm {algorithm}")


def proposal_payload(algorithm: str, result: engine.Result) -> dict[str, Any]:
    if algorithm == "families":
        return _family_payload(result)
    return {
        "algorithm": algorithm,
        "pairs": [
            {
                "mentee_id": p.mentee_id,
                "mentor_id": p.mentor_id,
                "score": round(p.score.total, 4),
                "breakdown": {k: round(v, 4) for k, v in p.score.by_rule.items()},
                "pinned": p.pinned,
            }
            for p in result.pairs
        ],
        "unmatched": [{"person_id": k, "reason": v} for k, v in sorted(result.unmatched.items())],
        "blocking_pairs": result.blocking_pairs,
    }


def pair_checker(
    mentees: list[engine.Mentee], mentors: list[engine.Mentor], rules: engine.Rules
) -> Callable[[str, str], tuple[list[str], float, dict[str, float]]]:
    """For coordinators' edits: the hard rules a pair breaks, and its score."""
    by_mentee = {m.id: m for m in mentees}
    by_mentor = {m.id: m for m in mentors}

    def check(mentee_id: str, mentor_id: str) -> tuple[list[str], float, dict[str, float]]:
        mentee, mentor = by_mentee.get(mentee_id), by_mentor.get(mentor_id)
        if mentee is None or mentor is None:
            return (["not an active mentee and mentor of this cycle"], 0.0, {})
        broken = engine.violations(mentee, mentor, rules)
        scored = engine.score(mentee, mentor, rules)
        return broken, round(scored.total, 4), {k: round(v, 4) for k, v in scored.by_rule.items()}

    return check


def pairs_to_keep(
    previous: Iterable[Mapping[str, Any]],
    mentees: list[engine.Mentee],
    mentors: list[engine.Mentor],
    rules: engine.Rules,
) -> list[tuple[str, str]]:
    """An earlier cycle's pairs to keep: both members re-enrolled, still acceptable, and neither
    asked for a rematch (longitudinal programs: the PGY2 stays with the PGY5)."""
    rows = list(previous)
    kept = [(r["mentee_id"], r["mentor_id"]) for r in rows if r["status"] == "active"]
    opted_out = {r["rematch_requested_by"] for r in rows if r["rematch_requested_by"]}
    return engine.keep_previous_pairs(kept, mentees, mentors, opted_out, rules)


def allowed_choices(
    mentees: list[engine.Mentee], mentors: list[engine.Mentor], rules: engine.Rules
) -> dict[str, list[str]]:
    """Each mentee's ranked mentors that the hard rules allow, best first."""
    by_id = {m.id: m for m in mentors}
    return {
        mentee.id: [
            m for m in mentee.ranking if m in by_id and engine.acceptable(mentee, by_id[m], rules)
        ]
        for mentee in mentees
    }


def _family_payload(result: engine.Result) -> dict[str, Any]:
    """One proposed pair per junior: the senior as mentor, the mid-level as co-mentor."""
    roles = {}
    for family in result.families:
        roles[family.senior_id], roles[family.mid_id] = "senior", "mid"
    juniors: dict[str, dict[str, Any]] = {}
    for p in result.pairs:
        entry = juniors.setdefault(
            p.mentee_id,
            {"mentee_id": p.mentee_id, "mentor_id": None, "co_mentor_id": None, "score": 0.0,
             "breakdown": {}, "pinned": False},
        )  # fmt: skip
        entry["mentor_id" if roles.get(p.mentor_id) == "senior" else "co_mentor_id"] = p.mentor_id
        entry["score"] = round(entry["score"] + p.score.total, 4)
        for rule, value in p.score.by_rule.items():
            entry["breakdown"][rule] = round(entry["breakdown"].get(rule, 0.0) + value, 4)
        entry["pinned"] = entry["pinned"] or p.pinned
    pairs = []
    for entry in juniors.values():
        if entry["mentor_id"] is None:  # a junior placed only with a mid-level: they lead
            entry["mentor_id"], entry["co_mentor_id"] = entry["co_mentor_id"], None
        pairs.append(entry)
    return {
        "algorithm": "families",
        "pairs": pairs,
        "unmatched": [{"person_id": k, "reason": v} for k, v in sorted(result.unmatched.items())],
        "blocking_pairs": None,
        "families": [
            {
                "senior_id": f.senior_id,
                "mid_id": f.mid_id,
                "junior_ids": list(f.junior_ids),
                "total_score": round(f.total_score, 4),
            }
            for f in result.families
        ],
    }
