"""Hard rules (which pairs may ever be made) and the soft-rule score of an acceptable pair."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence

from .model import MAX_RANKED, Mentee, Mentor, Rules, ScoreBreakdown


def violations(mentee: Mentee, mentor: Mentor, rules: Rules) -> list[str]:
    """Every hard rule the pair breaks, in words; empty when the pair is acceptable."""
    found = []
    if mentee.withdrawn:
        found.append("mentee withdrawn")
    if mentor.withdrawn:
        found.append("mentor withdrawn")
    if mentee.id == mentor.id:
        found.append("same person")
    if mentor.level_rank - mentee.level_rank < rules.min_level_gap:
        found.append(f"level gap below {rules.min_level_gap}")
    if not rules.cross_institution and mentee.institution_id != mentor.institution_id:
        found.append("different institutions")
    if mentor.id in mentee.conflicts or mentee.id in mentor.conflicts:
        found.append("declared conflict")
    return found


def acceptable(mentee: Mentee, mentor: Mentor, rules: Rules) -> bool:
    return (
        not mentee.withdrawn
        and not mentor.withdrawn
        and mentee.id != mentor.id
        and mentor.level_rank - mentee.level_rank >= rules.min_level_gap
        and (rules.cross_institution or mentee.institution_id == mentor.institution_id)
        and mentor.id not in mentee.conflicts
        and mentee.id not in mentor.conflicts
    )


def ranked_interest(position: int | None) -> float:
    """1 for the first choice, falling by 0.1 a place to 0.1 for the tenth and beyond."""
    if position is None:
        return 0.0
    return 1.0 - 0.1 * min(position, MAX_RANKED - 1)


def similarities(mentee: Mentee, mentor: Mentor) -> tuple[float, ...]:
    """One similarity in [0, 1] per soft rule, in SOFT_RULES order.

    Written out inline (no helper per rule): it runs once per proposal and per final pair.
    """
    a, b = mentee.interests, mentor.interests
    union = len(a | b)
    interests = len(a & b) / union if union else 0.0
    goals = mentee.goals_keywords
    goal_share = len(goals & b) / len(goals) if goals else 0.0
    a, b = mentee.languages, mentor.languages
    smaller = min(len(a), len(b))
    language = len(a & b) / smaller if smaller else 0.0  # one shared language is enough
    a, b = mentee.availability, mentor.availability
    smaller = min(len(a), len(b))
    availability = len(a & b) / smaller if smaller else 0.0
    mode_a, mode_b = mentee.meeting_mode, mentor.meeting_mode
    mode = 1.0 if mode_a == mode_b or mode_a == "either" or mode_b == "either" else 0.0
    ranking = mentee.ranking
    ranked = ranked_interest(ranking.index(mentor.id)) if mentor.id in ranking else 0.0
    wishes = mentee.identity_preferences
    identity = 0.0
    if wishes and mentor.identity:  # no consented wish, or nothing shared to match it against
        shared = mentor.identity
        identity = 1.0 if all(shared.get(k) == v for k, v in wishes.items()) else 0.0
    return (interests, goal_share, language, mode, ranked, identity, availability)


def total_score(mentee: Mentee, mentor: Mentor, weights: Sequence[float]) -> float:
    """The total of `score` without the breakdown; weights from Rules.weight_vector()."""
    total = 0.0
    for w, s in zip(weights, similarities(mentee, mentor), strict=True):
        total += w * s
    return total


def score(mentee: Mentee, mentor: Mentor, rules: Rules) -> ScoreBreakdown:
    """The score of a pair, rule by rule (weight x similarity), for explanations."""
    w = rules.weight_vector()
    s = similarities(mentee, mentor)
    parts = (w[0] * s[0], w[1] * s[1], w[2] * s[2], w[3] * s[3], w[4] * s[4], w[5] * s[5],
             w[6] * s[6])  # fmt: skip
    total = 0.0
    for part in parts:
        total += part
    return ScoreBreakdown(total, parts)


class EligibilityIndex:
    """Who may be paired with whom, without testing every pair.

    People are grouped by institution (one group when crossing institutions is allowed) and sorted
    by level, so the mentors above a mentee's level plus the gap form one slice; only conflicts and
    self-pairing are then checked pair by pair.
    """

    def __init__(self, mentees: Sequence[Mentee], mentors: Sequence[Mentor], rules: Rules) -> None:
        self.rules = rules
        self.mentees = mentees
        self.mentors = mentors
        self._mentors_by_group: dict[str, tuple[list[int], list[int]]] = {}
        self._mentees_by_group: dict[str, tuple[list[int], list[int]]] = {}
        for people, groups in (
            (mentors, self._mentors_by_group),
            (mentees, self._mentees_by_group),
        ):
            members: dict[str, list[int]] = {}
            for k, person in enumerate(people):
                members.setdefault(self.group(person), []).append(k)
            for key, idx in members.items():
                idx.sort(key=lambda k, people=people: (people[k].level_rank, k))
                groups[key] = ([people[k].level_rank for k in idx], idx)

    def group(self, person: Mentee | Mentor) -> str:
        return "" if self.rules.cross_institution else person.institution_id

    def mentor_slice(self, mentee: Mentee) -> list[int]:
        """Mentors passing the level and institution rules, lowest level first."""
        levels, idx = self._mentors_by_group.get(self.group(mentee), ([], []))
        return idx[bisect_left(levels, mentee.level_rank + self.rules.min_level_gap) :]

    def eligible_mentors(self, mentee: Mentee) -> list[int]:
        mentors = self.mentors
        return [
            j
            for j in self.mentor_slice(mentee)
            if mentors[j].id not in mentee.conflicts
            and mentee.id not in mentors[j].conflicts
            and mentors[j].id != mentee.id
        ]

    def eligible_mentees(self, mentor: Mentor) -> Iterator[int]:
        """Mentees passing every hard rule with the mentor, lazily (callers often need one)."""
        levels, idx = self._mentees_by_group.get(self.group(mentor), ([], []))
        mentees = self.mentees
        for i in idx[: bisect_right(levels, mentor.level_rank - self.rules.min_level_gap)]:
            mentee = mentees[i]
            if (
                mentee.id not in mentor.conflicts
                and mentor.id not in mentee.conflicts
                and mentee.id != mentor.id
            ):
                yield i
