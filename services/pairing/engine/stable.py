"""Mentee-proposing deferred acceptance with mentor capacities (hospitals/residents).

The result is stable and the best stable result for every mentee. Preference lists are built
lazily: a mentee's list past their own ranking is scored only if they get that far, so a run
costs roughly the proposals actually made.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence

from .explain import unmatched_reasons
from .gc_pause import gc_paused
from .model import PAIR_SETTERS, Mentee, Mentor, Pair, Result, Rules
from .pins import Pool, respect_pins
from .rules import EligibilityIndex, acceptable, score_pairs, total_score
from .score_orders import ScoreOrders

# A mentor's order of a mentee: (place in the mentor's ranking, -score, mentee index). Ranked
# mentees come first; the rest follow by score, ties broken by id (indices follow ids).
MentorKey = tuple[int, float, int]

# Mentor rankings up to this long are scanned for a proposer; longer ones get a table.
SCANNED_RANKING = 32


def _places(ranking: Sequence[str]) -> dict[str, int]:
    """Id -> place; built back to front so a mentee ranked twice keeps their first place."""
    return dict(zip(reversed(ranking), range(len(ranking) - 1, -1, -1), strict=True))


class _Preferences:
    def __init__(self, pool: Pool, rules: Rules, use_scores_for_unranked: bool) -> None:
        self.pool = pool
        self.rules = rules
        self.weights = rules.weight_vector()
        self.use_scores = use_scores_for_unranked
        self.index = EligibilityIndex(pool.mentees, pool.mentors, rules)
        self.score_orders = ScoreOrders(pool.mentees, pool.mentors, self.index, self.weights)
        self.mentor_index = {m.id: j for j, m in enumerate(pool.mentors)}
        # Each mentor's place of a mentee, by id, made only for long rankings and only once
        # someone proposes: most mentors hear a few proposals, and scanning a short ranking
        # for each costs less than a table of every mentee they ranked.
        self.mentor_rank: list[dict[str, int] | None] = [None] * len(pool.mentors)

    def position(self, j: int, mentee_id: str) -> int | None:
        """The mentee's place in mentor j's ranking (the first, if listed twice), or None.
        `_deferred_acceptance` inlines it: a change here goes there too."""
        places = self.mentor_rank[j]
        if places is None:
            ranking = self.pool.mentors[j].ranking
            if len(ranking) <= SCANNED_RANKING:
                return ranking.index(mentee_id) if mentee_id in ranking else None
            places = self.mentor_rank[j] = _places(ranking)
        return places.get(mentee_id)

    def ranked_choice(self, mentee: Mentee, place: int) -> int | None:
        """The index of the mentor at `place` in the mentee's own ranking, or None if that entry
        is not a choice: an unknown or unacceptable mentor, or one listed at an earlier place.
        `_deferred_acceptance` inlines it: a change here goes there too."""
        ranking = mentee.ranking
        mentor_id = ranking[place]
        j = self.mentor_index.get(mentor_id)
        # Rankings are short, so finding an entry again is cheaper than a set of those seen.
        if (
            j is None
            or ranking.index(mentor_id) != place
            or not acceptable(mentee, self.pool.mentors[j], self.rules)
        ):
            return None
        return j

    def scored_choices(self, mentee: Mentee) -> Iterator[tuple[int, float]]:
        """The mentee's choices after their own ranking, with their scores: every other eligible
        mentor, by score."""
        ranked = (self.ranked_choice(mentee, place) for place in range(len(mentee.ranking)))
        return self.score_orders.choices(mentee, {j for j in ranked if j is not None})

    def mentee_choices(self, i: int) -> Iterator[int]:
        """Mentor indices in the mentee's order: own ranking (acceptable only), then by score."""
        mentee = self.pool.mentees[i]
        for place in range(len(mentee.ranking)):
            j = self.ranked_choice(mentee, place)
            if j is not None:
                yield j
        if self.use_scores:
            yield from (j for j, _ in self.scored_choices(mentee))

    def mentor_key(self, j: int, i: int) -> MentorKey:
        position = self.position(j, self.pool.mentees[i].id)
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
    match, worst, rejected = _deferred_acceptance(prefs)

    blocking = 0
    for key, j in rejected:
        # Mentees propose best first, so every mentor who turned a mentee down is preferred to
        # their final match; the pair blocks if that mentor has room (worst[j] is None) or would
        # rather have them than the least preferred mentee held. Never, if the matching is right.
        if (held_worst := worst[j]) is None or key < held_worst:
            blocking += 1

    pool_mentees, pool_mentors = pool.mentees, pool.mentors
    matched = [(pool_mentees[i], pool_mentors[j]) for i, j in enumerate(match) if j >= 0]
    pairs = list(pool.pinned)
    new, set_mentee, set_mentor, set_score, set_pinned = object.__new__, *PAIR_SETTERS
    for (mentee, mentor), breakdown in zip(matched, score_pairs(matched, rules), strict=True):
        pair = new(Pair)  # Pair(mentee.id, mentor.id, breakdown), built in bulk
        set_mentee(pair, mentee.id)
        set_mentor(pair, mentor.id)
        set_score(pair, breakdown)
        set_pinned(pair, False)
        pairs.append(pair)
    mentor_of = {mentee.id: mentor.id for mentee, mentor in matched}
    unmatched = unmatched_reasons(
        pool, prefs.index, mentor_of, ranked_only=not use_scores_for_unranked
    )
    return Result(pairs, unmatched, blocking_pairs=blocking)


def _deferred_acceptance(
    prefs: _Preferences,
) -> tuple[list[int], list[MentorKey | None], list[tuple[MentorKey, int]]]:
    """Each mentee's mentor index (-1 if none), each mentor's least preferred key held (None if
    they have room left), and every proposal that was turned down, at once or later, as (the
    mentor's key of the mentee, mentor index): all proposals but the final pairs.

    Mentees walk their lists as `mentee_choices` gives them, but the ranked part is walked here
    with a place per mentee: a generator per mentee cost more than the matching itself.
    """
    mentees = prefs.pool.mentees
    n = len(mentees)
    capacity = [m.capacity for m in prefs.pool.mentors]
    held: list[list[MentorKey]] = [[] for _ in capacity]
    # The least preferred key each full mentor holds, kept so a rejection costs one comparison.
    worst: list[MentorKey | None] = [None] * len(capacity)
    match = [-1] * n
    next_place = [0] * n  # where each mentee is in their own ranking
    # Past it, the rest of their list with scores, once reached.
    scored: dict[int, Iterator[tuple[int, float]]] = {}
    use_scores = prefs.use_scores
    rejected: list[tuple[MentorKey, int]] = []
    reject = rejected.append
    mentors, mentor_index = prefs.pool.mentors, prefs.mentor_index
    min_gap, cross = prefs.rules.min_level_gap, prefs.rules.cross_institution
    mentor_rank, unranked_key = prefs.mentor_rank, prefs.unranked_key
    mentor_rankings = [m.ranking for m in mentors]
    free = list(range(n - 1, -1, -1))  # a stack, so mentees start in id order
    while free:
        i = free.pop()
        mentee = mentees[i]
        mentee_id, ranking = mentee.id, mentee.ranking
        conflicts = mentee.conflicts
        level, institution = mentee.level_rank, mentee.institution_id
        place = next_place[i]
        while True:
            if place < len(ranking):
                # ranked_choice, inlined (`acceptable` too, its mentee half hoisted above, and
                # without the withdrawn tests: a pool holds active people only): it runs once
                # per entry of every ranking walked.
                mentor_id = ranking[place]
                place += 1
                j = mentor_index.get(mentor_id)
                if j is None or ranking.index(mentor_id) != place - 1:
                    continue
                mentor = mentors[j]
                if not (
                    mentee_id != mentor_id
                    and mentor.level_rank - level >= min_gap
                    and (cross or mentor.institution_id == institution)
                    and mentor_id not in conflicts
                    and mentee_id not in mentor.conflicts
                ):
                    continue
                total = None
            elif use_scores:
                rest = scored.get(i)
                if rest is None:
                    rest = scored[i] = prefs.scored_choices(mentee)
                choice = next(rest, None)
                if choice is None:
                    break
                j, total = choice
            else:
                break
            places = mentor_rank[j]  # position(j, mentee_id), inlined
            if places is None:
                listed = mentor_rankings[j]
                if len(listed) <= SCANNED_RANKING:
                    position = listed.index(mentee_id) if mentee_id in listed else None
                else:
                    places = mentor_rank[j] = _places(listed)
                    position = places.get(mentee_id)
            else:
                position = places.get(mentee_id)
            held_worst = worst[j]
            if position is not None:
                key = (position, 0.0, i)
            elif total is None:
                unranked = len(mentor_rankings[j])
                if held_worst is not None and held_worst[0] < unranked:
                    # Full with mentees they ranked: turned down whatever the score, and never
                    # blocking (the final worst is ranked too), so the pair is left unscored.
                    reject(((unranked, 0.0, i), j))
                    continue
                key = unranked_key(j, i)
            else:  # unranked_key, with the score the mentee's list already holds
                key = (len(mentor_rankings[j]), -total, i)
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
                bumped = held_worst[2]
                match[bumped] = -1
                free.append(bumped)
                reject((held_worst, j))
                break
            reject((key, j))
        next_place[i] = place
    return match, worst, rejected


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
