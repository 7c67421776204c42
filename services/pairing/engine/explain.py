"""Why someone was left without a pair, in words a coordinator can act on."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from itertools import chain

from .model import Mentee, Mentor, Result, Rules
from .pins import Pool, respect_pins
from .rules import EligibilityIndex

WITHDRAWN = "withdrawn"
NO_ELIGIBLE_MENTOR = "no eligible mentor (level gap, institution or conflicts)"
ALL_MENTORS_FULL = "all eligible mentors full"
RANKED_DECLINED = "ranked mentors declined or full"
RANKED_NONE_ELIGIBLE = "ranked no eligible mentor"
OUTSIDE_SHORTLIST = "eligible mentors with room were outside the candidate shortlist"
NOT_PLACED = "eligible mentors with room, but placing them lowered the total score"
NO_CAPACITY = "no capacity offered"
NO_ELIGIBLE_MENTEE = "no eligible mentee (level gap, institution or conflicts)"
NOT_RANKED = "no mentee ranked them"
PLACED_ELSEWHERE = "eligible mentees were placed with other mentors"


def unmatched_reasons(
    pool: Pool,
    index: EligibilityIndex,
    mentor_of: Mapping[str, str],
    *,
    ranked_only: bool = False,
    shortlisted: bool = False,
) -> dict[str, str]:
    """Reasons for every pool mentee without a mentor and every mentor without any mentee.

    `index` is over the pool's own mentees and mentors.
    `mentor_of` maps mentee id -> mentor id for the run's own pairs (pins excluded: the pool's
    capacities already allow for them). `ranked_only`
    says mentees proposed only to mentors they ranked; `shortlisted` that only top candidates
    were considered.
    """
    mentors = pool.mentors
    load = Counter(mentor_of.values())
    reasons = dict.fromkeys(pool.withdrawn, WITHDRAWN)
    reasons.update(pool.ineligible)
    pinned_mentors = {p.mentor_id for p in pool.pinned}
    for mentor in pool.full_mentors:
        if mentor.id not in pinned_mentors:
            reasons[mentor.id] = NO_CAPACITY
    # Each question about a mentee is answered by the first mentor that passes, found in an
    # index of the mentors it is about: an explanation costs a bisection and the conflicts passed
    # over, not a scan of every mentor.
    with_room = EligibilityIndex(
        (), [m for m in mentors if load.get(m.id, 0) < m.capacity], index.rules
    )
    full = EligibilityIndex((), pool.full_mentors, index.rules)
    position = {m.id: j for j, m in enumerate(mentors)} if ranked_only else {}
    for mentee in pool.mentees:
        if mentee.id in mentor_of:
            continue
        # Mentors with room are among the index's, so one with room settles the first two
        # questions at once: most mentees left out in a ranked run have one.
        if not with_room.has_eligible_mentor(mentee):
            if not index.has_eligible_mentor(mentee) and not full.has_eligible_mentor(mentee):
                reason = NO_ELIGIBLE_MENTOR
            else:
                reason = ALL_MENTORS_FULL
        elif ranked_only:
            ranked_eligible = any(
                (j := position.get(mentor_id)) is not None and _eligible(index, mentee, mentors[j])
                for mentor_id in mentee.ranking
            )
            reason = RANKED_DECLINED if ranked_eligible else RANKED_NONE_ELIGIBLE
        elif shortlisted:
            reason = OUTSIDE_SHORTLIST
        else:
            reason = NOT_PLACED
        reasons[mentee.id] = reason
    idle = {m.id: m for m in mentors if m.id not in pinned_mentors and not load.get(m.id, 0)}
    # Any ranking counts here, eligible or not: cheap, and either way nobody asked for them. Only
    # the idle mentors' ids are looked for, so the rankings are scanned without building a set.
    ranked: set[str] = set()
    if ranked_only and idle:
        ranked = set(idle).intersection(chain.from_iterable(m.ranking for m in pool.mentees))
    for mentor in idle.values():
        if next(index.eligible_mentees(mentor), None) is None:
            reasons[mentor.id] = NO_ELIGIBLE_MENTEE
        elif ranked_only and mentor.id not in ranked:
            reasons[mentor.id] = NOT_RANKED
        else:
            reasons[mentor.id] = PLACED_ELSEWHERE
    return reasons


def _eligible(index: EligibilityIndex, mentee: Mentee, mentor: Mentor) -> bool:
    """Whether a pool's mentee and mentor may be paired: a pool holds no one whose level may
    not take their role, so only the pair's own rules are left to test."""
    rules = index.rules
    return (
        mentor.level_rank - mentee.level_rank >= rules.min_level_gap
        and (rules.cross_institution or mentee.institution_id == mentor.institution_id)
        and mentor.id not in mentee.conflicts
        and mentee.id not in mentor.conflicts
        and mentor.id != mentee.id
    )


def explain_unmatched(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    result: Result,
    rules: Rules | None = None,
    *,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
) -> dict[str, str]:
    """Recompute the reasons for a result, e.g. after a coordinator edited pairs by hand."""
    rules = rules or Rules()
    pool = respect_pins(mentees, mentors, rules, pinned, excluded)
    index = EligibilityIndex(pool.mentees, pool.mentors, rules)
    mentor_of = {p.mentee_id: p.mentor_id for p in result.pairs if not p.pinned}
    return unmatched_reasons(pool, index, mentor_of)
