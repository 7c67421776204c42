"""A seeded random pairing that respects the hard rules: a baseline and a lottery option."""

from __future__ import annotations

import random
from collections.abc import Collection, Sequence

from .explain import unmatched_reasons
from .model import Mentee, Mentor, Pair, Result, Rules
from .pins import respect_pins
from .rules import EligibilityIndex, score


def random_pairing(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    rules: Rules | None = None,
    *,
    seed: int,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
) -> Result:
    """Mentees in a shuffled order each take a random eligible mentor with room left. The same
    seed and people give the same pairs whatever order the people were passed in."""
    rules = rules or Rules()
    pool = respect_pins(mentees, mentors, rules, pinned, excluded)
    index = EligibilityIndex(pool.mentees, pool.mentors, rules)
    rng = random.Random(seed)
    room = [m.capacity for m in pool.mentors]
    order = list(range(len(pool.mentees)))
    rng.shuffle(order)
    pairs = list(pool.pinned)
    mentor_of: dict[str, str] = {}
    for i in order:
        mentee = pool.mentees[i]
        open_mentors = [j for j in index.eligible_mentors(mentee) if room[j]]
        if not open_mentors:
            continue
        j = rng.choice(open_mentors)
        room[j] -= 1
        mentor = pool.mentors[j]
        pairs.append(Pair(mentee.id, mentor.id, score(mentee, mentor, rules)))
        mentor_of[mentee.id] = mentor.id
    return Result(pairs, unmatched_reasons(pool, index, mentor_of))
