"""Group coaching: each coach leads one group of mentees, groups as even in size as the hard
rules allow, and the best total score among such groupings.

Objective, in order: place as many mentees as possible, then keep the largest and smallest
non-empty groups as close as possible, then maximise the total score. Small cycles are solved
exhaustively; large ones by an exact assignment under a size cap, then bounded local moves.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Collection, Sequence

import numpy as np

from .candidates import candidate_edges
from .explain import unmatched_reasons
from .model import Mentee, Mentor, Pair, Result, Rules
from .optimal import best_assignment
from .pins import Pool, respect_pins
from .rules import EligibilityIndex, acceptable, score, total_score

# Exhaustive search while (coaches + 1) ** mentees stays below this.
EXHAUSTIVE_LIMIT = 60_000


def groups(
    mentees: Sequence[Mentee],
    coaches: Sequence[Mentor],
    rules: Rules | None = None,
    *,
    group_size: int,
    time_limit_s: float = 2.0,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
) -> Result:
    """A coach's group holds at most min(coach capacity, group_size) mentees, pins included."""
    if group_size < 1:
        raise ValueError("group_size must be at least 1")
    rules = rules or Rules()
    pool = respect_pins(mentees, coaches, rules, pinned, excluded)
    pins_of: dict[str, int] = {}
    for pair in pool.pinned:
        pins_of[pair.mentor_id] = pins_of.get(pair.mentor_id, 0) + 1
    # Seats left in each group: the pool already took pins off the capacity.
    capped = tuple(
        dataclasses.replace(c, capacity=max(0, min(c.capacity, group_size - pins_of.get(c.id, 0))))
        for c in pool.mentors
    )
    pool = dataclasses.replace(pool, mentors=tuple(c for c in capped if c.capacity > 0))
    fixed = [pins_of.get(c.id, 0) for c in pool.mentors]
    # Coaches filled by pins still count when judging how even the groups are.
    fixed_elsewhere = [n for c_id, n in pins_of.items() if c_id not in {c.id for c in pool.mentors}]

    n, m = len(pool.mentees), len(pool.mentors)
    if n and m and (m + 1) ** n <= EXHAUSTIVE_LIMIT:
        choice = _exhaustive(pool, rules, fixed, fixed_elsewhere)
    else:
        choice = _assign_then_improve(pool, rules, fixed, fixed_elsewhere, time_limit_s)

    pairs = list(pool.pinned)
    mentor_of: dict[str, str] = {}
    for i, j in enumerate(choice):
        if j >= 0:
            mentee, coach = pool.mentees[i], pool.mentors[j]
            pairs.append(Pair(mentee.id, coach.id, score(mentee, coach, rules)))
            mentor_of[mentee.id] = coach.id
    index = EligibilityIndex(pool.mentees, pool.mentors, rules)
    return Result(pairs, unmatched_reasons(pool, index, mentor_of))


def _spread(sizes: Sequence[int]) -> int:
    used = [s for s in sizes if s]
    return max(used) - min(used) if used else 0


def _exhaustive(
    pool: Pool, rules: Rules, fixed: list[int], fixed_elsewhere: list[int]
) -> list[int]:
    weights = rules.weight_vector()
    options = []
    for mentee in pool.mentees:
        allowed = [j for j, c in enumerate(pool.mentors) if acceptable(mentee, c, rules)]
        options.append([-1, *allowed])
    gain = {
        (i, j): total_score(e, pool.mentors[j], weights)
        for i, e in enumerate(pool.mentees)
        for j in options[i][1:]
    }
    capacity = [c.capacity for c in pool.mentors]
    best: tuple[int, int, float] | None = None
    best_choice: list[int] = [-1] * len(pool.mentees)
    for choice in itertools.product(*options):
        sizes = list(fixed)
        total = 0.0
        for i, j in enumerate(choice):
            if j >= 0:
                sizes[j] += 1
                total += gain[i, j]
        if any(sizes[j] - fixed[j] > capacity[j] for j in range(len(sizes))):
            continue
        placed = sum(1 for j in choice if j >= 0)
        key = (placed, -_spread(sizes + fixed_elsewhere), total)
        # Strictly better only, so the first (lowest indices) of equal groupings wins.
        if best is None or key[:2] > best[:2] or (key[:2] == best[:2] and total > best[2] + 1e-9):
            best, best_choice = key, list(choice)
    return best_choice


def _assign_then_improve(
    pool: Pool, rules: Rules, fixed: list[int], fixed_elsewhere: list[int], time_limit_s: float
) -> list[int]:
    deadline = time.monotonic() + time_limit_s
    n = len(pool.mentees)
    edges = candidate_edges(pool, rules)
    capacity = np.array([c.capacity for c in pool.mentors], dtype=np.int64)
    fixed_arr = np.array(fixed, dtype=np.int64)
    if n == 0 or not len(edges.mentee):
        return [-1] * n

    def seats(cap_total: int) -> np.ndarray:
        # Seats when no group may exceed cap_total mentees in all, pins included.
        return np.clip(np.minimum(capacity, cap_total - fixed_arr), 0, None)

    ones = np.ones(len(edges.mentee))
    most = int((best_assignment(n, capacity, edges.mentee, edges.mentor, ones) >= 0).sum())
    # The smallest size cap that still places as many mentees: the largest group is minimal.
    low, high = 1, int((capacity + fixed_arr).max())
    while low < high:
        mid = (low + high) // 2
        placed = best_assignment(n, seats(mid), edges.mentee, edges.mentor, ones) >= 0
        low, high = (low, mid) if int(placed.sum()) == most else (mid + 1, high)
    # A bonus per placement larger than any total score keeps the placed count at its maximum.
    bonus = float(np.abs(edges.score).sum()) + 1.0
    taken = best_assignment(n, seats(low), edges.mentee, edges.mentor, edges.score + bonus)
    choice = taken.tolist()
    _improve(pool, rules, choice, fixed, fixed_elsewhere, deadline)
    return choice


def _improve(
    pool: Pool,
    rules: Rules,
    choice: list[int],
    fixed: list[int],
    fixed_elsewhere: list[int],
    deadline: float,
) -> None:
    """Move mentees from the largest groups to the smallest (least score lost first), then swap
    pairs of mentees between groups while that raises the score, until the deadline."""
    weights = rules.weight_vector()
    mentees, coaches = pool.mentees, pool.mentors
    sizes = list(fixed)
    members: list[list[int]] = [[] for _ in coaches]
    for i, j in enumerate(choice):
        if j >= 0:
            sizes[j] += 1
            members[j].append(i)

    def gain(i: int, j: int) -> float:
        return total_score(mentees[i], coaches[j], weights)

    while time.monotonic() < deadline and _spread(sizes + fixed_elsewhere) > 1:
        used = [j for j, s in enumerate(sizes) if s]
        largest = max(sizes[j] for j in used)
        smallest = min(sizes[j] for j in used)
        moves = [
            (gain(i, source) - gain(i, target), i, source, target)
            for source in used
            if sizes[source] == largest
            for i in members[source]
            for target in used
            if sizes[target] == smallest
            and sizes[target] - fixed[target] < coaches[target].capacity
            and acceptable(mentees[i], coaches[target], rules)
        ]
        if not moves:
            break
        _, i, source, target = min(moves)
        members[source].remove(i)
        members[target].append(i)
        sizes[source] -= 1
        sizes[target] += 1
        choice[i] = target

    improved = True
    while improved and time.monotonic() < deadline:
        improved = False
        for a, b in itertools.combinations(range(len(coaches)), 2):
            if time.monotonic() >= deadline:
                return
            for i in list(members[a]):
                for k in list(members[b]):
                    if not (
                        acceptable(mentees[i], coaches[b], rules)
                        and acceptable(mentees[k], coaches[a], rules)
                    ):
                        continue
                    delta = gain(i, b) + gain(k, a) - gain(i, a) - gain(k, b)
                    if delta > 1e-9:
                        members[a].remove(i)
                        members[b].remove(k)
                        members[a].append(k)
                        members[b].append(i)
                        choice[i], choice[k] = b, a
                        improved = True
                        break
                if improved:
                    break
            if improved:
                break
