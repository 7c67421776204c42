"""Maximum total score under capacities and hard rules, solved exactly as an assignment problem."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .candidates import candidate_edges
from .explain import unmatched_reasons
from .model import Mentee, Mentor, Pair, Result, Rules
from .pins import respect_pins
from .rules import EligibilityIndex, score

# Below this many matrix cells the dense solver is simpler and as fast.
DENSE_CELLS = 250_000


def best_assignment(
    rows: int,
    capacity: np.ndarray,
    edge_row: np.ndarray,
    edge_col: np.ndarray,
    edge_score: np.ndarray,
) -> np.ndarray:
    """For each row the column it takes (-1: none) maximising the total score of the taken edges,
    with column c taken by at most capacity[c] rows. Among equal scores, more rows placed wins.

    Each column is expanded into one slot per unit of capacity, and each row gets a private dummy
    slot worth nothing, so a full matching of rows always exists and "unplaced" is a choice.
    """
    taken = np.full(rows, -1, dtype=np.int64)
    if rows == 0 or len(edge_row) == 0:
        return taken
    # Integer gains keep the solver exact: the score in small units, times (rows + 1) so that one
    # extra placed row (the +1) never outweighs one unit of score. The unit grows with the size
    # so every total stays within float64's exact integers.
    peak = max(float(np.abs(edge_score).max()), 1.0)
    unit = max(1e-6, 4.0 * rows * (rows + 1) * peak / 2.0**52)
    gain = np.rint(edge_score / unit) * (rows + 1) + 1.0
    ceiling = max(float(gain.max()), 0.0) + 1.0
    cost = ceiling - gain  # > 0 everywhere: a sparse matrix would drop explicit zeros

    capacity = np.asarray(capacity, dtype=np.int64)
    slot_start = np.concatenate(([0], np.cumsum(capacity)))
    slots = int(slot_start[-1])
    copies = capacity[edge_col]
    row = np.repeat(edge_row, copies)
    first_copy = np.repeat(np.cumsum(copies) - copies, copies)
    col = np.repeat(slot_start[edge_col], copies) + (np.arange(len(row)) - first_copy)
    col_owner = np.repeat(np.arange(len(capacity)), capacity)
    row = np.concatenate((row, np.arange(rows)))
    col = np.concatenate((col, slots + np.arange(rows)))
    weights = np.concatenate((np.repeat(cost, copies), np.full(rows, ceiling)))

    if rows * (slots + rows) <= DENSE_CELLS:
        dense = np.full((rows, slots + rows), np.inf)
        dense[row, col] = weights
        row_ind, col_ind = linear_sum_assignment(dense)
    else:
        matrix = csr_matrix((weights, (row, col)), shape=(rows, slots + rows))
        row_ind, col_ind = min_weight_full_bipartite_matching(matrix)
    real = col_ind < slots
    taken[row_ind[real]] = col_owner[col_ind[real]]
    return taken


def optimal(
    mentees: Sequence[Mentee],
    mentors: Sequence[Mentor],
    rules: Rules | None = None,
    *,
    candidates_per_mentee: int | None = None,
    pinned: Sequence[tuple[str, str]] = (),
    excluded: Collection[str] = frozenset(),
) -> Result:
    """The pairing with the highest total score; with candidates_per_mentee, each mentee is only
    considered with their best-scoring acceptable mentors (exact over those edges)."""
    rules = rules or Rules()
    if candidates_per_mentee is not None and candidates_per_mentee < 1:
        raise ValueError("candidates_per_mentee must be at least 1")
    pool = respect_pins(mentees, mentors, rules, pinned, excluded)
    edges = candidate_edges(pool, rules, candidates_per_mentee)
    capacity = np.array([m.capacity for m in pool.mentors], dtype=np.int64)
    taken = best_assignment(len(pool.mentees), capacity, edges.mentee, edges.mentor, edges.score)

    pairs = list(pool.pinned)
    mentor_of: dict[str, str] = {}
    for i in np.flatnonzero(taken >= 0).tolist():
        mentee, mentor = pool.mentees[i], pool.mentors[int(taken[i])]
        pairs.append(Pair(mentee.id, mentor.id, score(mentee, mentor, rules)))
        mentor_of[mentee.id] = mentor.id
    index = EligibilityIndex(pool.mentees, pool.mentors, rules)
    unmatched = unmatched_reasons(
        pool, index, mentor_of, shortlisted=candidates_per_mentee is not None
    )
    return Result(pairs, unmatched)
