"""The explanations of the unmatched as first written: every eligible mentor listed for every
mentee left out. Quadratic, but plain; the engine's indexed explanations must agree with it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from services.pairing.engine.explain import (
    ALL_MENTORS_FULL,
    NO_CAPACITY,
    NO_ELIGIBLE_MENTEE,
    NO_ELIGIBLE_MENTOR,
    NOT_PLACED,
    NOT_RANKED,
    OUTSIDE_SHORTLIST,
    PLACED_ELSEWHERE,
    RANKED_DECLINED,
    RANKED_NONE_ELIGIBLE,
    WITHDRAWN,
)
from services.pairing.engine.pins import Pool
from services.pairing.engine.rules import Rules, acceptable


def reference_reasons(
    pool: Pool,
    rules: Rules,
    mentor_of: Mapping[str, str],
    *,
    ranked_only: bool = False,
    shortlisted: bool = False,
) -> dict[str, str]:
    load = Counter(mentor_of.values())
    reasons = dict.fromkeys(pool.withdrawn, WITHDRAWN)
    reasons.update(pool.ineligible)
    pinned_mentors = {p.mentor_id for p in pool.pinned}
    for mentor in pool.full_mentors:
        if mentor.id not in pinned_mentors:
            reasons[mentor.id] = NO_CAPACITY
    for mentee in pool.mentees:
        if mentee.id in mentor_of:
            continue
        eligible = [m for m in pool.mentors if acceptable(mentee, m, rules)]
        with_room = [m for m in eligible if load[m.id] < m.capacity]
        full_by_pins = [m for m in pool.full_mentors if acceptable(mentee, m, rules)]
        if not eligible and not full_by_pins:
            reasons[mentee.id] = NO_ELIGIBLE_MENTOR
        elif not with_room:
            reasons[mentee.id] = ALL_MENTORS_FULL
        elif ranked_only:
            ranked = any(m.id in mentee.ranking for m in eligible)
            reasons[mentee.id] = RANKED_DECLINED if ranked else RANKED_NONE_ELIGIBLE
        else:
            reasons[mentee.id] = OUTSIDE_SHORTLIST if shortlisted else NOT_PLACED
    for mentor in pool.mentors:
        if mentor.id in pinned_mentors or load[mentor.id]:
            continue
        if not any(acceptable(e, mentor, rules) for e in pool.mentees):
            reasons[mentor.id] = NO_ELIGIBLE_MENTEE
        elif ranked_only and not any(mentor.id in e.ranking for e in pool.mentees):
            reasons[mentor.id] = NOT_RANKED
        else:
            reasons[mentor.id] = PLACED_ELSEWHERE
    return reasons
