"""Hard rules (which pairs may ever be made) and the soft-rule score of an acceptable pair."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence

from .model import MAX_RANKED, SCORE_BREAKDOWN_SETTERS, Mentee, Mentor, Rules, ScoreBreakdown


def violations(mentee: Mentee, mentor: Mentor, rules: Rules) -> list[str]:
    """Every hard rule the pair breaks, in words; empty when the pair is acceptable."""
    found = []
    if mentee.withdrawn:
        found.append("mentee withdrawn")
    if mentor.withdrawn:
        found.append("mentor withdrawn")
    if mentee.id == mentor.id:
        found.append("same person")
    for person in (mentee, mentor):
        refusal = rules.level_refusal(person)
        if refusal:
            found.append(refusal)
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
        and (rules.mentee_levels is None or mentee.training_level in rules.mentee_levels)
        and (rules.mentor_levels is None or mentor.training_level in rules.mentor_levels)
    )


def ranked_interest(position: int | None) -> float:
    """1 for the first choice, falling by 0.1 a place to 0.1 for the tenth and beyond."""
    if position is None:
        return 0.0
    return 1.0 - 0.1 * min(position, MAX_RANKED - 1)


def similarities(mentee: Mentee, mentor: Mentor) -> tuple[float, ...]:
    """One similarity in [0, 1] per soft rule, in SOFT_RULES order.

    Written out inline (no helper per rule, one set built per shared count, `min` as a
    conditional): it runs once per proposal and per final pair. Every value is computed exactly
    as the plain definition would (|a | b| = |a| + |b| - |a & b| on integers), so scores do not
    depend on which form is used.
    """
    a, b = mentee.interests, mentor.interests
    shared = len(a & b)
    union = len(a) + len(b) - shared
    interests = shared / union if union else 0.0
    goals = mentee.goals_keywords
    goal_share = len(goals & b) / len(goals) if goals else 0.0
    a, b = mentee.languages, mentor.languages
    smaller = len(a)
    if len(b) < smaller:
        smaller = len(b)
    language = len(a & b) / smaller if smaller else 0.0  # one shared language is enough
    a, b = mentee.availability, mentor.availability
    smaller = len(a)
    if len(b) < smaller:
        smaller = len(b)
    availability = len(a & b) / smaller if smaller else 0.0
    mode_a, mode_b = mentee.meeting_mode, mentor.meeting_mode
    mode = 1.0 if mode_a == mode_b or mode_a == "either" or mode_b == "either" else 0.0
    ranking, mentor_id = mentee.ranking, mentor.id
    ranked = 0.0
    if mentor_id in ranking:  # ranked_interest, inlined
        position = ranking.index(mentor_id)
        ranked = 1.0 - 0.1 * (position if position < MAX_RANKED - 1 else MAX_RANKED - 1)
    wishes = mentee.identity_preferences
    identity = 0.0
    if wishes and mentor.identity:  # no consented wish, or nothing shared to match it against
        shared_identity = mentor.identity
        identity = 1.0
        for k, v in wishes.items():
            if not shared_identity.get(k) == v:  # noqa: SIM201 (as all(... == v) would test)
                identity = 0.0
                break
    return (interests, goal_share, language, mode, ranked, identity, availability)


def total_score(mentee: Mentee, mentor: Mentor, weights: Sequence[float]) -> float:
    """The total of `score` without the breakdown; weights from Rules.weight_vector()."""
    total = 0.0
    for w, s in zip(weights, similarities(mentee, mentor), strict=True):
        total += w * s
    return total


def score(mentee: Mentee, mentor: Mentor, rules: Rules) -> ScoreBreakdown:
    """The score of a pair, rule by rule (weight x similarity), for explanations."""
    return score_pairs(((mentee, mentor),), rules)[0]


def score_pairs(pairs: Iterable[tuple[Mentee, Mentor]], rules: Rules) -> list[ScoreBreakdown]:
    """`score` of many pairs, with the per-call work (weights, dispatch) done once.

    A result's breakdowns cost one `similarities` call per pair and little else. The total adds
    the parts left to right from 0.0, as `total_score` does, so the two agree to the last bit.
    """
    w0, w1, w2, w3, w4, w5, w6 = rules.weight_vector()
    out = []
    new, set_total, set_parts = object.__new__, *SCORE_BREAKDOWN_SETTERS
    for mentee, mentor in pairs:
        s0, s1, s2, s3, s4, s5, s6 = similarities(mentee, mentor)
        p0, p1, p2, p3, p4, p5, p6 = w0 * s0, w1 * s1, w2 * s2, w3 * s3, w4 * s4, w5 * s5, w6 * s6
        breakdown = new(ScoreBreakdown)  # ScoreBreakdown(total, parts), built in bulk
        set_total(breakdown, 0.0 + p0 + p1 + p2 + p3 + p4 + p5 + p6)
        set_parts(breakdown, (p0, p1, p2, p3, p4, p5, p6))
        out.append(breakdown)
    return out


class EligibilityIndex:
    """Who may be paired with whom, without testing every pair.

    People are grouped by institution (one group when crossing institutions is allowed) and sorted
    by level, so the mentors above a mentee's level plus the gap form one slice; only conflicts and
    self-pairing are then checked pair by pair. People whose level may not take their role in the
    cycle are left out of the index (and so have nobody eligible).
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
                if rules.level_refusal(person) is None:
                    key = "" if rules.cross_institution else person.institution_id
                    members.setdefault(key, []).append(k)
            level = [person.level_rank for person in people]
            for key, idx in members.items():
                idx.sort(key=level.__getitem__)  # stable, and idx ascends: by (level, index)
                groups[key] = ([level[k] for k in idx], idx)

    def group(self, person: Mentee | Mentor) -> str:
        return "" if self.rules.cross_institution else person.institution_id

    def mentor_slice(self, mentee: Mentee) -> list[int]:
        """Mentors passing the level and institution rules, lowest level first."""
        levels, idx = self._mentors_by_group.get(self.group(mentee), ([], []))
        return idx[bisect_left(levels, mentee.level_rank + self.rules.min_level_gap) :]

    def mentor_slice_key(self, mentee: Mentee) -> tuple[str, int]:
        """Equal for mentees whose `mentor_slice` is the same (group, and where it starts)."""
        group = self.group(mentee)
        levels, _ = self._mentors_by_group.get(group, ([], []))
        return group, bisect_left(levels, mentee.level_rank + self.rules.min_level_gap)

    def eligible_mentors(self, mentee: Mentee) -> list[int]:
        mentors = self.mentors
        if self.rules.level_refusal(mentee):
            return []
        return [
            j
            for j in self.mentor_slice(mentee)
            if mentors[j].id not in mentee.conflicts
            and mentee.id not in mentors[j].conflicts
            and mentors[j].id != mentee.id
        ]

    def has_eligible_mentor(self, mentee: Mentee) -> bool:
        """Whether `eligible_mentors` would be non-empty, at the cost of the mentors it passes
        over: the slice is walked in place (not copied) and only a conflict or the mentee
        themself is ever skipped, so this stops at the first or second mentor but for them."""
        if self.rules.level_refusal(mentee):
            return False
        levels, idx = self._mentors_by_group.get(self.group(mentee), ([], []))
        mentors, conflicts, mentee_id = self.mentors, mentee.conflicts, mentee.id
        for k in range(bisect_left(levels, mentee.level_rank + self.rules.min_level_gap), len(idx)):
            mentor = mentors[idx[k]]
            if (
                mentor.id not in conflicts
                and mentee_id not in mentor.conflicts
                and mentor.id != mentee_id
            ):
                return True
        return False

    def eligible_mentees(self, mentor: Mentor) -> Iterator[int]:
        """Mentees passing every hard rule with the mentor, lazily (callers often need one); the
        level slice is walked in place, so taking the first costs no copy of the group."""
        if self.rules.level_refusal(mentor):
            return
        levels, idx = self._mentees_by_group.get(self.group(mentor), ([], []))
        mentees, conflicts, mentor_id = self.mentees, mentor.conflicts, mentor.id
        for k in range(bisect_right(levels, mentor.level_rank - self.rules.min_level_gap)):
            i = idx[k]
            mentee = mentees[i]
            if (
                mentee.id not in conflicts
                and mentor_id not in mentee.conflicts
                and mentee.id != mentor_id
            ):
                yield i
