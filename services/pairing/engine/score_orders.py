"""Mentors in a mentee's score order, shared by every mentee who would order them the same way.

A mentee who gets past their own ranking goes on to every other eligible mentor, best score
first. Scoring each such mentee against every mentor is all-pairs work: a 5,000-person roster
where nobody ranks anyone costs millions of scores. But a score depends only on what the two
people's profiles hold (interests, goals, languages, mode, availability, identity) and, for the
mentee, on their ranking, which never matters here: the mentors past it are not in it. So
mentees with one profile and the same eligible mentors share one order, and mentors with one
profile share one score in it; each mentee then only skips those they ranked or who conflict
with them.
Long orders are scored with numpy (the same operations, so the same scores), and only the head
of an order is kept: a mentee rarely walks far down it, and one who does doubles what is kept.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterator, Mapping, Sequence
from operator import itemgetter

import numpy as np

from .candidates import Features, best_first
from .model import SOFT_RULES, Mentee, Mentor
from .rules import EligibilityIndex, total_score

# Places of an order kept at first for every mentee who shares it; walking past them doubles it.
KEPT = 64
# Orders over more mentors than this are scored with numpy, shorter ones pair by pair.
VECTORISED_FROM = 128
# Pairs scored in one array operation: bounds memory when many mentees are scored together.
BATCH_SCORES = 250_000

Choice = tuple[int, float]  # (mentor index, the pair's score)


def _items(mapping: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items())) if mapping else ()


class ScoreOrders:
    def __init__(
        self,
        mentees: Sequence[Mentee],
        mentors: Sequence[Mentor],
        index: EligibilityIndex,
        weights: Sequence[float],
    ) -> None:
        self.mentees = mentees
        self.mentors = mentors
        self.index = index
        self.weights = weights
        # A pair past the mentee's ranking earns nothing for ranked interest; with its weight
        # at 0 the vectorised total adds the same 0.0 the pair-by-pair one does.
        unranked = list(weights)
        unranked[SOFT_RULES.index("ranked_interest")] = 0.0
        self._unranked_weights = tuple(unranked)
        self._heads: dict[Hashable, list[Choice]] = {}  # mentee key -> first places of its order
        self._complete: set[Hashable] = set()  # keys whose head is the whole order
        self._mentor_profiles: list[Hashable] | None = None
        self._topics: frozenset[str] = frozenset()
        self._features: Features | None = None
        self._mentee_index: dict[str, int] | None = None
        # Mentor indices ascending, as a list and an array, per mentor slice: a long walk
        # extends an order many times over the same mentors.
        self._columns: dict[Hashable, tuple[list[int], np.ndarray]] = {}
        # Mentor id -> index, and person id -> mentors who declared a conflict with them.
        self._mentor_index: dict[str, int] | None = None
        self._refusing: dict[str, list[int]] = {}

    def _profiles(self) -> list[Hashable]:
        """Per mentor, everything a score reads of them but their id, which only the mentee's
        ranking looks for. Made on first use: ranked-only runs never need it."""
        if self._mentor_profiles is None:
            self._mentor_profiles = [
                (m.interests, m.languages, m.meeting_mode, m.availability, _items(m.identity))
                for m in self.mentors
            ]
            self._topics = frozenset().union(*(m.interests for m in self.mentors))
        return self._mentor_profiles

    def _mentee_key(self, mentee: Mentee) -> Hashable:
        # Goal words no mentor lists as an interest count only towards how many goals there are.
        goals = mentee.goals_keywords
        return (
            mentee.interests,
            goals & self._topics,
            len(goals),
            mentee.languages,
            mentee.meeting_mode,
            mentee.availability,
            _items(mentee.identity_preferences),
            self.index.mentor_slice_key(mentee),
        )

    def order(self, mentee: Mentee, start: int = 0, stop: int | None = None) -> list[Choice]:
        """Places [start, stop) of the mentors passing the level and institution rules for the
        mentee, best score first (ties by index), scored as if the mentee had ranked none."""
        cols, columns = self._slice(mentee)
        if len(cols) >= VECTORISED_FROM:
            return self._vectorised_order(mentee, columns, start, stop)
        # Another mentee with the same profile scores every mentor alike: any one stands in.
        unranked = dataclasses.replace(mentee, ranking=())
        profiles, mentors, weights = self._profiles(), self.mentors, self.weights
        by_profile: dict[Hashable, float] = {}
        scored = []
        for j in cols:
            profile = profiles[j]
            total = by_profile.get(profile)
            if total is None:
                total = by_profile[profile] = total_score(unranked, mentors[j], weights)
            scored.append((j, total))
        # Stable, and `reverse` keeps it so: equal scores stay in index order.
        return sorted(scored, key=itemgetter(1), reverse=True)[start:stop]

    def _slice(self, mentee: Mentee) -> tuple[list[int], np.ndarray]:
        """The mentors passing the level and institution rules for the mentee, ascending."""
        key = self.index.mentor_slice_key(mentee)
        found = self._columns.get(key)
        if found is None:
            cols = sorted(self.index.mentor_slice(mentee))
            found = self._columns[key] = (cols, np.array(cols, dtype=np.int64))
        return found

    def _vectorised_order(
        self, mentee: Mentee, columns: np.ndarray, start: int, stop: int | None
    ) -> list[Choice]:
        self._ensure_features()
        assert self._mentee_index is not None
        return self._vectorised_rows([self._mentee_index[mentee.id]], columns, start, stop)[0]

    def _ensure_features(self) -> Features:
        if self._features is None:
            self._features = Features(tuple(self.mentees), tuple(self.mentors))
            self._mentee_index = {m.id: i for i, m in enumerate(self.mentees)}
        return self._features

    def _vectorised_rows(
        self, rows: list[int], columns: np.ndarray, start: int, stop: int | None
    ) -> list[list[Choice]]:
        """Places [start, stop) of the order of each mentee in `rows` over mentors `columns`
        (ascending), scored together: one array operation per rule for all of them."""
        features = self._ensure_features()
        out = []
        step = max(1, BATCH_SCORES // len(columns))
        for first in range(0, len(rows), step):
            batch = rows[first : first + step]
            totals = features.scores(
                np.array(batch, dtype=np.int64)[:, None], columns[None, :], self._unranked_weights
            )
            # Best first, equal scores in index order.
            taken = best_first(totals, stop)[:, start:]
            picked = np.take_along_axis(totals, taken, axis=1)
            for mentors, scores in zip(columns[taken].tolist(), picked.tolist(), strict=True):
                out.append(list(zip(mentors, scores, strict=True)))
        return out

    def _score_unranked_mentees(self) -> None:
        """Heads for every mentee who ranked nobody, made together: each of them starts on their
        scored list, so none of this work is wasted, and batches cost far less than one call
        per mentee."""
        wanted: dict[Hashable, dict[Hashable, int]] = {}  # slice key -> mentee key -> index
        for i, mentee in enumerate(self.mentees):
            if not mentee.ranking:
                key = self._mentee_key(mentee)
                if key not in self._heads:
                    wanted.setdefault(key[-1], {}).setdefault(key, i)
        for keys in wanted.values():
            first = self.mentees[next(iter(keys.values()))]
            cols, columns = self._slice(first)
            if len(cols) < VECTORISED_FROM:
                continue  # scored one by one as they are reached
            heads = self._vectorised_rows(list(keys.values()), columns, 0, KEPT)
            self._heads.update(zip(keys, heads, strict=True))
            if len(cols) < KEPT:
                self._complete.update(keys)

    def _conflicted(self, mentee: Mentee) -> set[int]:
        """Indices of the mentors the mentee may not be paired with for conflicts declared on
        either side or being the same person: one set, so a walk tests each mentor once."""
        if self._mentor_index is None:
            self._mentor_index = {m.id: j for j, m in enumerate(self.mentors)}
            for j, mentor in enumerate(self.mentors):
                for other in mentor.conflicts:
                    self._refusing.setdefault(other, []).append(j)
        index = self._mentor_index
        found = {
            j for other in (*mentee.conflicts, mentee.id) if (j := index.get(other)) is not None
        }
        found.update(self._refusing.get(mentee.id, ()))
        return found

    def choices(self, mentee: Mentee, ranked: set[int]) -> Iterator[Choice]:
        """(mentor index, score) of every eligible mentor but the `ranked` ones, best score
        first (ties by index); the score is the pair's own, as none of them was ranked."""
        if self._mentor_profiles is None:
            self._profiles()
            self._score_unranked_mentees()
        key = self._mentee_key(mentee)
        head = self._heads.get(key)
        if head is None:
            head = self._heads[key] = self.order(mentee, 0, KEPT)
            if len(head) < KEPT:
                self._complete.add(key)
        skipped = ranked | self._conflicted(mentee)
        place = 0
        while True:
            # By place, not by iterator: another mentee may lengthen the shared head meanwhile.
            while place < len(head):
                choice = head[place]
                place += 1
                if choice[0] not in skipped:
                    yield choice
            if key in self._complete:
                return
            # Walked past what is kept: keep twice as much, for every mentee with this key, so
            # what is kept stays within twice the deepest walk.
            kept = len(head)
            head.extend(self.order(mentee, kept, 2 * kept))
            if len(head) < 2 * kept:
                self._complete.add(key)
