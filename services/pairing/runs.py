"""Running the engine on a cycle's candidate pool, and turning its result into a proposal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from services.eventkit.metrics import PAIRING_RUN, timed

from . import engine
from . import readmodels as rm


def load_pool(
    conn: sa.Connection, cycle_id: str
) -> tuple[list[engine.Mentee], list[engine.Mentor]]:
    """The cycle's active participants as the engine sees them (ids are person ids)."""
    c, p = rm.candidates, rm.people
    rows = (
        conn.execute(
            sa.select(c, p.c.training_level)
            .join(p, p.c.id == c.c.person_id)
            .where(c.c.cycle_id == cycle_id, c.c.status == "active")
            .order_by(c.c.enrollment_id)
        )
        .mappings()
        .all()
    )
    conflicts: dict[str, set[str]] = {}
    for r in conn.execute(
        sa.select(rm.conflicts).where(
            rm.conflicts.c.enrollment_id.in_([r["enrollment_id"] for r in rows])
        )
    ):
        conflicts.setdefault(r.enrollment_id, set()).add(r.other_person_id)
    person_of = {r["enrollment_id"]: r["person_id"] for r in rows}
    mentees, mentors = [], []
    for r in rows:
        common = {
            "id": r["person_id"],
            "institution_id": r["institution_id"],
            "level_rank": engine.level_rank(r["training_level"]),
            "interests": frozenset(i.lower() for i in r["interests"] or []),
            "languages": frozenset(x.lower() for x in r["languages"] or []),
            "meeting_mode": r["meeting_mode"],
            "availability": frozenset(r["availability"] or []),
            "identity": r["identity"],
            "conflicts": frozenset(conflicts.get(r["enrollment_id"], ())),
        }
        if r["role"] == "mentee":
            ranking = tuple(person_of[e] for e in r["ranking"] or [] if e in person_of)
            goals = frozenset(w for w in (r["goals"] or "").lower().split() if len(w) > 3)
            # Consented self-identification is matched as shared identity: a mentor scores on
            # this rule only if they consented too and share every item the mentee gave.
            mentees.append(
                engine.Mentee(
                    ranking=ranking,
                    goals_keywords=goals,
                    identity_preferences=r["identity"],
                    **common,
                )
            )
        else:
            mentors.append(engine.Mentor(capacity=r["capacity"] or 1, **common))
    return mentees, mentors


# In mentoring families the mid-level member is a PGY3 or a research resident; seniors are above.
MID_LEVELS = frozenset({"PGY3", "research_resident"})


def training_levels(conn: sa.Connection, person_ids: list[str]) -> dict[str, str]:
    rows = conn.execute(
        sa.select(rm.people.c.id, rm.people.c.training_level).where(rm.people.c.id.in_(person_ids))
    )
    return {r.id: r.training_level for r in rows}


def family_pins(
    pins: list[tuple[str, str]], mentors: list[engine.Mentor], levels: dict[str, str]
) -> list[tuple[str, str]]:
    """Published family pairs as the engine's family pins: each core (mid, senior) and each junior
    with their senior."""
    mentor_ids = {m.id for m in mentors}
    by_junior: dict[str, dict[str, str]] = {}
    for junior, mentor in pins:
        if mentor in mentor_ids:
            kind = "mid" if levels.get(mentor) in MID_LEVELS else "senior"
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


def rules_for(cycle: sa.RowMapping, params: dict[str, Any]) -> engine.Rules:
    return engine.Rules(
        min_level_gap=params["min_level_gap"],
        cross_institution=bool(cycle["cross_institution"]),
        weights=params.get("weights") or {},
    )


@timed(PAIRING_RUN, lambda algorithm, *_args, **_kw: algorithm)
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
        levels = params["levels"]
        mids = [m for m in mentors if levels.get(m.id) in MID_LEVELS]
        seniors = [m for m in mentors if levels.get(m.id) not in MID_LEVELS]
        return engine.families(
            seniors, mids, mentees, rules,
            juniors_per_family=params.get("juniors_per_family") or 2,
            pinned=family_pins(pinned, mentors, levels), excluded=frozenset(excluded),
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
