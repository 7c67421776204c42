"""Mentee-proposing deferred acceptance with mentor capacities (hospitals/residents).

The result is stable and the best stable result for every mentee. Preference lists are built
lazily: a mentee's list past their own ranking is scored only if they get that far, so a run
costs roughly the proposals actually made.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from .explain import unmatched_reasons
from .gc_pause import gc_paused
from .model import Mentee, Mentor, Pair, Result, Rules
from .pins import Pool, respect_pins
from .rules import EligibilityIndex, acceptable, score_pairs, total_score

# A mentor's order of a mentee: (place in the mentor's ranking, -score, mentee index). Ranked
# mentees come first; the rest follow by score, ties broken by id (indices follow ids).
MentorKey = tuple[int, float, int]


class _Preferences:
    def __init__(self, pool: Pool, rules: Rules, use_scores_for_unranked: bool) -> None:
        self.pool = pool
        self.rules = rules
        self.weights = rules.weight_vector()
        self.use_scores = use_scores_for_unranked
        self.index = EligibilityIndex(pool.mentees, pool.mentors, rules)
        self.mentor_index = {m.id: j for j, m in enumerate(pool.mentors)}
        # Built back to front so a mentee ranked twice keeps their first place.
        self.mentor_rank: list[dict[str, int]] = [
            dict(zip(reversed(m.ranking), range(len(m.ranking) - 1, -1, -1), strict=True))
            for m in pool.mentors
        ]

    def mentee_choices(self, i: int) -> Iterator[int]:
        """Mentor indices in the mentee's order: own ranking (acceptable only), then by score."""
        mentee = self.pool.mentees[i]
        mentors = self.pool.mentors
        mentor_index = self.mentor_index
        rules = self.rules
        ranking = mentee.ranking
        yielded: list[int] = []
        for position, mentor_id in enumerate(ranking):
            j = mentor_index.get(mentor_id)
            # A mentor listed twice counts at their first place only (rankings are short, so
            # finding it again is cheaper than keeping a set of those seen).
            if (
                j is not None
                and ranking.index(mentor_id) == position
                and acceptable(mentee, mentors[j], rules)
            ):
                yielded.append(j)
                yield j
        if self.use_scores:
            weights = self.weights
            seen = set(yielded)
            rest = [
                (-total_score(mentee, mentors[j], weights), j)
                for j in self.index.eligible_mentors(mentee)
                if j not in seen
            ]
            rest.sort()
            for _, j in rest:
                yield j

    def mentor_key(self, j: int, i: int) -> MentorKey:
        mentee = self.pool.mentees[i]
        position = self.mentor_rank[j].get(mentee.id)
        if position is not None:
            return (position, 0.0, i)
        return self.unranked_key(j, i)

    def unranked_key(self, j: int, i: int) -> MentorKey:
        mentee, mentor = self.pool.mentees[i], self.pool.mentors[j]
        return (len(mentor.ranking), -total_score(mentee, mentor, self.weights), i)


def stable(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    rules: Rules | None = None,
    *,
    use_scores_for_unranked: bool = True,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
) -> Result:
    rules = rules or Rules()
    with gc_paused():
        return _stable(
            rules, respect_pins(mentees, mentors, rules, pinned, excluded), use_scores_for_unranked
        )


def _stable(rules: Rules, pool: Pool, use_scores_for_unranked: bool) -> Result:
    prefs = _Preferences(pool, rules, use_scores_for_unranked)
    match, held, proposals = _deferred_acceptance(prefs)

    # Each full mentor's least preferred mentee held; None while they have room.
    worst = [
        max(holding) if len(holding) >= mentor.capacity else None
        for holding, mentor in zip(held, pool.mentors, strict=True)
    ]
    blocking = 0
    for key, j in proposals:
        # Mentees propose best first, so every mentor proposed to other than the final match is
        # preferred to it; the pair blocks if that mentor has room or would rather have them.
        if match[key[2]] != j and ((held_worst := worst[j]) is None or key < held_worst):
            blocking += 1

    pool_mentees, pool_mentors = pool.mentees, pool.mentors
    matched = [(pool_mentees[i], pool_mentors[j]) for i, j in enumerate(match) if j >= 0]
    pairs = list(pool.pinned)
    pairs.extend(
        Pair(mentee.id, mentor.id, breakdown)
        for (mentee, mentor), breakdown in zip(matched, score_pairs(matched, rules), strict=True)
    )
    mentor_of = {mentee.id: mentor.id for mentee, mentor in matched}
    unmatched = unmatched_reasons(
        pool, prefs.index, mentor_of, ranked_only=not use_scores_for_unranked
    )
    return Result(pairs, unmatched, blocking_pairs=blocking)


def _deferred_acceptance(
    prefs: _Preferences,
) -> tuple[list[int], list[list[MentorKey]], list[tuple[MentorKey, int]]]:
    """Each mentee's mentor index (-1 if none), each mentor's held keys, and every proposal as
    (the mentor's key of the mentee, mentor index)."""
    n = len(prefs.pool.mentees)
    capacity = [m.capacity for m in prefs.pool.mentors]
    held: list[list[MentorKey]] = [[] for _ in capacity]
    # The least preferred key each full mentor holds, kept so a rejection costs one comparison.
    worst: list[MentorKey | None] = [None] * len(capacity)
    match = [-1] * n
    choices = [prefs.mentee_choices(i) for i in range(n)]
    proposals: list[tuple[MentorKey, int]] = []
    propose = proposals.append
    mentor_rank, unranked_key = prefs.mentor_rank, prefs.unranked_key
    mentee_ids = [m.id for m in prefs.pool.mentees]
    free = list(range(n - 1, -1, -1))  # a stack, so mentees start in id order
    while free:
        i = free.pop()
        mentee_id = mentee_ids[i]
        for j in choices[i]:
            position = mentor_rank[j].get(mentee_id)
            key = (position, 0.0, i) if position is not None else unranked_key(j, i)
            propose((key, j))
            held_worst = worst[j]
            if held_worst is None:  # room left
                holding = held[j]
                holding.append(key)
                match[i] = j
                if len(holding) == capacity[j]:
                    worst[j] = max(holding)
                break
            if key < held_worst:
                holding = held[j]
                holding.remove(held_worst)
                holding.append(key)
                worst[j] = max(holding)
                match[i] = j
                rejected = held_worst[2]
                match[rejected] = -1
                free.append(rejected)
                break
    return match, held, proposals


def preference_lists(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    rules: Rules | None = None,
    *,
    use_scores_for_unranked: bool = True,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, int]]:
    """The complete lists `stable` works from, by id: mentee -> mentors, mentor -> the mentees
    who list them, and each mentor's capacity left after pins."""
    rules = rules or Rules()
    pool = respect_pins(mentees, mentors, rules, pinned, excluded)
    prefs = _Preferences(pool, rules, use_scores_for_unranked)
    mentee_prefs: dict[str, list[str]] = {}
    proposers: list[list[int]] = [[] for _ in pool.mentors]
    for i, mentee in enumerate(pool.mentees):
        listed = list(prefs.mentee_choices(i))
        mentee_prefs[mentee.id] = [pool.mentors[j].id for j in listed]
        for j in listed:
            proposers[j].append(i)
    mentor_prefs = {
        mentor.id: [
            pool.mentees[i].id for i in sorted(who, key=lambda i, j=j: prefs.mentor_key(j, i))
        ]
        for j, (mentor, who) in enumerate(zip(pool.mentors, proposers, strict=True))
    }
    capacities = {m.id: m.capacity for m in pool.mentors}
    return mentee_prefs, mentor_prefs, capacities


def count_blocking_pairs(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    result: Result,
    rules: Rules | None = None,
    *,
    use_scores_for_unranked: bool = True,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
) -> int:
    """Pairs (mentee, mentor) who both list each other and would both rather be together than
    with what `result` gave them; pins are settled and take no part."""
    mentee_prefs, mentor_prefs, capacity = preference_lists(
        mentees,
        mentors,
        rules,
        use_scores_for_unranked=use_scores_for_unranked,
        pinned=pinned,
        excluded=excluded,
    )
    mentor_of = {p.mentee_id: p.mentor_id for p in result.pairs if not p.pinned}
    assigned: dict[str, list[str]] = {m: [] for m in mentor_prefs}
    for mentee_id, mentor_id in mentor_of.items():
        assigned[mentor_id].append(mentee_id)
    position = {
        mentor_id: {mentee_id: k for k, mentee_id in enumerate(listed)}
        for mentor_id, listed in mentor_prefs.items()
    }
    blocking = 0
    for mentee_id, listed in mentee_prefs.items():
        current = mentor_of.get(mentee_id)
        for mentor_id in listed:
            if mentor_id == current:
                break  # the rest are worse than the current mentor
            rank = position[mentor_id]
            holding = assigned[mentor_id]
            if len(holding) < capacity[mentor_id] or any(
                rank[mentee_id] < rank.get(other, len(rank)) for other in holding
            ):
                blocking += 1
    return blocking
