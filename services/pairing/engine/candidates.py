"""Every acceptable (mentee, mentor) edge with its total score, computed with numpy.

Scoring tens of millions of pairs one by one in Python is too slow, so sets become bit masks and
each soft rule is one array operation. The arithmetic mirrors `rules.similarities` operation for
operation, so totals agree with `rules.total_score` (the tests check it).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from .model import MAX_RANKED, Mentee, Mentor, Rules
from .pins import Pool

# Edges scored per batch: bounds memory when every mentee may meet thousands of mentors.
BATCH_EDGES = 2_000_000
# A rule is looked up in a table of its values, one per pair of distinct mentee and mentor
# features, when the table has at most this many entries (8 bytes each); else computed per pair.
TABLE_ENTRIES = 1_000_000
_MODES = {"either": 0, "in_person": 1, "virtual": 2}


@dataclass(frozen=True)
class Edges:
    mentee: np.ndarray  # pool mentee index, int64
    mentor: np.ndarray  # pool mentor index, int64
    score: np.ndarray  # total score, float64


# A set as bit masks, one uint64 array per 64 items of its vocabulary; items outside the
# vocabulary are left out (the caller counts them from the set where they matter).
Bits = tuple[np.ndarray, ...]
# One soft rule's value for pairs (rows[k], cols[k]), broadcasting as `Features.scores` does.
Part = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _bitsets(sets: Iterable[frozenset[str]], vocabulary: dict[str, int]) -> Bits:
    masks = [sum(1 << k for item in items if (k := vocabulary.get(item)) is not None)
             for items in sets]  # fmt: skip
    words = max(1, (len(vocabulary) + 63) // 64)
    return tuple(
        np.array([(mask >> (64 * w)) & 0xFFFF_FFFF_FFFF_FFFF for mask in masks], dtype=np.uint64)
        for w in range(words)
    )


def _vocabulary(*families: Iterable[frozenset[str]]) -> dict[str, int]:
    items: set[str] = set()
    for sets in families:
        for s in sets:
            items |= s
    return {item: k for k, item in enumerate(sorted(items))}


def _shared(a: Bits, rows: np.ndarray, b: Bits, cols: np.ndarray) -> np.ndarray:
    """How many items each pair's two sets share: a popcount per word (most sets fit one)."""
    total = np.bitwise_count(a[0][rows] & b[0][cols])
    for w in range(1, len(a)):
        total = total + np.bitwise_count(a[w][rows] & b[w][cols]).astype(np.int64)
    return total


def _ratio(shared: np.ndarray, size: np.ndarray) -> np.ndarray:
    """shared / size, 0 where size is 0. Counts never exceed their size, so shared is 0 there
    too and dividing by 1 instead gives that 0 (a plain division: far cheaper than a masked one),
    and the same float Python's int / int gives."""
    return shared / np.maximum(size, 1)


def _codes(columns: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Each person's code among the distinct rows of their `columns` (a rule's features), and
    one person per code to stand for it."""
    stacked = np.stack([c.astype(np.int64) for c in columns], axis=1)
    _, first, codes = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    return codes.reshape(-1), first


def _sizes(sets: Iterable[frozenset[str]]) -> np.ndarray:
    # Narrow integers: these are broadcast over every pair of a batch.
    return np.array([len(s) for s in sets], dtype=np.int32)


class Features:
    def __init__(self, mentees: tuple[Mentee, ...], mentors: tuple[Mentor, ...]) -> None:
        # Only a mentor's interest can be shared, with a mentee's interests or goal words: one
        # vocabulary of those (a word or two of bits); set sizes come from the whole sets.
        topics = _vocabulary(m.interests for m in mentors)
        languages = _vocabulary((m.languages for m in mentees), (m.languages for m in mentors))
        slots = _vocabulary((m.availability for m in mentees), (m.availability for m in mentors))
        self.e_interests = _bitsets((m.interests for m in mentees), topics)
        self.e_interest_count = _sizes(m.interests for m in mentees)
        self.r_interests = _bitsets((m.interests for m in mentors), topics)
        self.r_interest_count = _sizes(m.interests for m in mentors)
        self.e_goals = _bitsets((m.goals_keywords for m in mentees), topics)
        self.e_goal_count = _sizes(m.goals_keywords for m in mentees)
        self.e_languages = _bitsets((m.languages for m in mentees), languages)
        self.r_languages = _bitsets((m.languages for m in mentors), languages)
        self.e_language_count = _sizes(m.languages for m in mentees)
        self.r_language_count = _sizes(m.languages for m in mentors)
        self.e_slots = _bitsets((m.availability for m in mentees), slots)
        self.r_slots = _bitsets((m.availability for m in mentors), slots)
        self.e_slot_count = _sizes(m.availability for m in mentees)
        self.r_slot_count = _sizes(m.availability for m in mentors)
        self.e_mode = np.array([_MODES[m.meeting_mode] for m in mentees], dtype=np.int8)
        self.r_mode = np.array([_MODES[m.meeting_mode] for m in mentors], dtype=np.int8)

        # Ranked places as sorted keys mentee * len(mentors) + mentor, looked up by bisection.
        self.width = len(mentors)
        mentor_index = {m.id: j for j, m in enumerate(mentors)}
        places: dict[int, int] = {}
        for i, mentee in enumerate(mentees):
            for position, mentor_id in enumerate(mentee.ranking):
                j = mentor_index.get(mentor_id)
                if j is not None:
                    places.setdefault(i * self.width + j, position)
        keys = np.array(sorted(places), dtype=np.int64)
        self.rank_keys = keys
        self.rank_places = np.array([places[int(k)] for k in keys], dtype=np.int64)

        # Identity: one row of mentor matches per distinct set of consented wishes (row 0: none).
        wish_rows: dict[tuple[tuple[str, str], ...], int] = {(): 0}
        self.e_wish = np.zeros(len(mentees), dtype=np.int64)
        for i, mentee in enumerate(mentees):
            wishes = tuple(sorted((mentee.identity_preferences or {}).items()))
            self.e_wish[i] = wish_rows.setdefault(wishes, len(wish_rows))
        self.identity_table = np.zeros((len(wish_rows), len(mentors)), dtype=np.float64)
        for wishes, row in wish_rows.items():
            if wishes:
                self.identity_table[row] = [
                    1.0 if m.identity and all(m.identity.get(k) == v for k, v in wishes) else 0.0
                    for m in mentors
                ]

        # Each rule but the ranked and identity ones reads a few features of either person, and
        # pools hold far fewer distinct features than pairs: its value for every pair of them is
        # computed once here, with the same operations, and a pair's value is then one lookup.
        int_, goal, lang, slot = self.r_interests, self.e_goals, self.r_languages, self.r_slots
        features = {
            self._interests: ((*self.e_interests, self.e_interest_count),
                              (*int_, self.r_interest_count)),
            self._goals: ((*goal, self.e_goal_count), int_),
            self._language: ((*self.e_languages, self.e_language_count),
                             (*lang, self.r_language_count)),
            self._mode: ((self.e_mode,), (self.r_mode,)),
            self._availability: ((*self.e_slots, self.e_slot_count), (*slot, self.r_slot_count)),
        }  # fmt: skip
        self._parts = tuple(
            self._tabled(part, *features[part]) if part in features and mentees and mentors
            else part
            for part in (self._interests, self._goals, self._language, self._mode, self._ranked,
                         self._identity, self._availability)
        )  # fmt: skip

    def _tabled(
        self, part: Part, mentee_features: tuple[np.ndarray, ...], mentor_features: Bits
    ) -> Part:
        """`part` as a lookup in a table of its values over distinct features, if small enough."""
        e_code, e_first = _codes(mentee_features)
        r_code, r_first = _codes(mentor_features)
        if len(e_first) * len(r_first) > TABLE_ENTRIES:
            return part
        table = part(e_first[:, None], r_first[None, :])
        return lambda rows, cols: table[e_code[rows], r_code[cols]]

    def scores(self, rows: np.ndarray, cols: np.ndarray, weights: tuple[float, ...]) -> np.ndarray:
        """Totals of pairs (rows[k], cols[k]); rows and cols may also broadcast, e.g. a column
        of mentees against a row of mentors scores every pair of the two.

        Parts are added in SOFT_RULES order, as `total_score` adds them. A rule weighted 0 adds
        exactly 0.0 to a total that is never negative, so it is not computed at all.
        """
        shape = np.broadcast_shapes(rows.shape, cols.shape)
        total = np.zeros(shape, dtype=np.float64)
        for w, part in zip(weights, self._parts, strict=True):
            if w:
                total += w * part(rows, cols)
        return total

    def _interests(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        shared = _shared(self.e_interests, rows, self.r_interests, cols)
        # |a | b| = |a| + |b| - |a & b|, as `similarities` counts it.
        return _ratio(shared, self.e_interest_count[rows] + self.r_interest_count[cols] - shared)

    def _goals(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        shared = _shared(self.e_goals, rows, self.r_interests, cols)
        return _ratio(shared, self.e_goal_count[rows])

    def _language(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return _ratio(
            _shared(self.e_languages, rows, self.r_languages, cols),
            np.minimum(self.e_language_count[rows], self.r_language_count[cols]),
        )

    def _mode(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        e_mode, r_mode = self.e_mode[rows], self.r_mode[cols]
        return ((e_mode == 0) | (r_mode == 0) | (e_mode == r_mode)).astype(np.float64)

    def _ranked(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        keys = rows * self.width + cols
        ranked = np.zeros(keys.shape, dtype=np.float64)
        if len(self.rank_keys):
            at = np.minimum(np.searchsorted(self.rank_keys, keys), len(self.rank_keys) - 1)
            hit = self.rank_keys[at] == keys
            places = np.minimum(self.rank_places[at[hit]], MAX_RANKED - 1)
            ranked[hit] = 1.0 - 0.1 * places
        return ranked

    def _identity(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return self.identity_table[self.e_wish[rows], cols]

    def _availability(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        return _ratio(
            _shared(self.e_slots, rows, self.r_slots, cols),
            np.minimum(self.e_slot_count[rows], self.r_slot_count[cols]),
        )


def best_first(totals: np.ndarray, stop: int | None) -> np.ndarray:
    """Column indices of each row's `stop` highest totals, best first, equal totals in column
    order: what a stable argsort of -totals gives, without sorting whole rows (an order's head
    is a few dozen of thousands of mentors)."""
    n, m = totals.shape
    if stop is None or stop >= m:
        return np.argsort(-totals, axis=1, kind="stable")
    if stop <= 0:
        return np.zeros((n, 0), dtype=np.int64)
    # Every total at least the row's stop-th highest; ties with it may make more than `stop`.
    threshold = -np.partition(-totals, stop - 1, axis=1)[:, stop - 1 : stop]
    r, c = np.nonzero(totals >= threshold)
    order = np.lexsort((c, -totals[r, c], r))
    r, c = r[order], c[order]
    place = np.arange(len(r)) - np.searchsorted(r, r, side="left")
    return c[place < stop].reshape(n, stop)


def _slices(pool: Pool, rules: Rules) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mentors in (group, level) order, and each mentee's [start, end) in that order."""

    def group(person: Mentee | Mentor) -> str:
        return "" if rules.cross_institution else person.institution_id

    order = sorted(
        range(len(pool.mentors)),
        key=lambda j: (group(pool.mentors[j]), pool.mentors[j].level_rank, j),
    )
    bounds: dict[str, tuple[int, list[int]]] = {}
    for position, j in enumerate(order):
        _, levels = bounds.setdefault(group(pool.mentors[j]), (position, []))
        levels.append(pool.mentors[j].level_rank)
    starts = np.zeros(len(pool.mentees), dtype=np.int64)
    ends = np.zeros(len(pool.mentees), dtype=np.int64)
    for i, mentee in enumerate(pool.mentees):
        found = bounds.get(group(mentee))
        if found is None:
            continue
        offset, levels = found
        starts[i] = offset + bisect_left(levels, mentee.level_rank + rules.min_level_gap)
        ends[i] = offset + len(levels)
    return np.array(order, dtype=np.int64), starts, ends


def _forbidden(pool: Pool) -> np.ndarray:
    """Keys mentee * len(mentors) + mentor of pairs ruled out by conflicts or being one person."""
    width = len(pool.mentors)
    mentee_index = {m.id: i for i, m in enumerate(pool.mentees)}
    mentor_index = {m.id: j for j, m in enumerate(pool.mentors)}
    keys: set[int] = set()
    for i, mentee in enumerate(pool.mentees):
        for other in (*mentee.conflicts, mentee.id):
            j = mentor_index.get(other)
            if j is not None:
                keys.add(i * width + j)
    for j, mentor in enumerate(pool.mentors):
        for other in mentor.conflicts:
            i = mentee_index.get(other)
            if i is not None:
                keys.add(i * width + j)
    return np.array(sorted(keys), dtype=np.int64)


def iter_edges(pool: Pool, rules: Rules, top_k: int | None = None) -> Iterator[Edges]:
    """Acceptable edges in batches of whole mentees; with top_k, only each mentee's best top_k
    (ties: lower mentor index, i.e. id, first)."""
    if not pool.mentees or not pool.mentors:
        return
    features = Features(pool.mentees, pool.mentors)
    weights = rules.weight_vector()
    order, starts, ends = _slices(pool, rules)
    forbidden = _forbidden(pool)
    lengths = ends - starts
    width = len(pool.mentors)
    first = 0
    n = len(pool.mentees)
    while first < n:
        # Take mentees until the batch is full (at least one, however many mentors it has).
        cumulative = np.cumsum(lengths[first:])
        last = first + max(1, int(np.searchsorted(cumulative, BATCH_EDGES, side="right")))
        batch_lengths = lengths[first:last]
        total = int(batch_lengths.sum())
        if total:
            rows = np.repeat(np.arange(first, last, dtype=np.int64), batch_lengths)
            segment_start = np.repeat(np.cumsum(batch_lengths) - batch_lengths, batch_lengths)
            positions = np.arange(total, dtype=np.int64) - segment_start
            cols = order[np.repeat(starts[first:last], batch_lengths) + positions]
            if len(forbidden):
                keep = ~np.isin(rows * width + cols, forbidden)
                rows, cols = rows[keep], cols[keep]
            scores = features.scores(rows, cols, weights)
            if top_k is not None:
                ranked = np.lexsort((cols, -scores, rows))
                rows, cols, scores = rows[ranked], cols[ranked], scores[ranked]
                row_start = np.searchsorted(rows, rows, side="left")
                keep = np.arange(len(rows)) - row_start < top_k
                rows, cols, scores = rows[keep], cols[keep], scores[keep]
            yield Edges(rows, cols, scores)
        first = last


def candidate_edges(pool: Pool, rules: Rules, top_k: int | None = None) -> Edges:
    batches = list(iter_edges(pool, rules, top_k))
    if not batches:
        empty = np.zeros(0, dtype=np.int64)
        return Edges(empty, empty, np.zeros(0, dtype=np.float64))
    return Edges(
        np.concatenate([b.mentee for b in batches]),
        np.concatenate([b.mentor for b in batches]),
        np.concatenate([b.score for b in batches]),
    )
