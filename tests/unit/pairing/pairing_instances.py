"""Small random pairing instances for property tests, and the checks every result must pass."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hypothesis import strategies as st

from services.pairing.engine import (
    Mentee,
    Mentor,
    Result,
    Rules,
    acceptable,
    level_rank,
    score,
)

TOPICS = ["trauma", "research", "wellness", "education", "oncology"]
LANGUAGES = ["en", "es", "fr"]
SLOTS = ["mon-am", "tue-pm", "wed-eve", "thu-am"]
MODES = ["in_person", "virtual", "either"]
MENTEE_LEVELS = ["MS4", "PGY1", "PGY2", "PGY3"]
MENTOR_LEVELS = ["PGY2", "PGY3", "PGY4", "research_resident", "PGY5", "faculty"]


@dataclass
class Instance:
    mentees: list[Mentee]
    mentors: list[Mentor]
    rules: Rules = field(default_factory=Rules)
    pinned: list[tuple[str, str]] = field(default_factory=list)
    excluded: frozenset[str] = frozenset()

    def kwargs(self) -> dict:
        return {"pinned": self.pinned, "excluded": self.excluded}


def _subset(draw, items: list[str], max_size: int | None = None) -> frozenset[str]:
    return frozenset(draw(st.lists(st.sampled_from(items), max_size=max_size or len(items))))


@st.composite
def instances(
    draw,
    max_mentees: int = 7,
    max_mentors: int = 4,
    max_capacity: int = 3,
    with_pins: bool = True,
) -> Instance:
    n_mentees = draw(st.integers(0, max_mentees))
    n_mentors = draw(st.integers(0, max_mentors))
    mentee_ids = [f"e{i}" for i in range(n_mentees)]
    mentor_ids = [f"m{j}" for j in range(n_mentors)]
    # Now and then one person is enrolled on both sides, to exercise the no-self-pairing rule.
    if n_mentees and n_mentors and draw(st.booleans()):
        mentor_ids[0] = mentee_ids[0]
    people = mentee_ids + mentor_ids
    institutions = ["a", "b"]

    mentees = []
    for mentee_id in mentee_ids:
        level = draw(st.sampled_from(MENTEE_LEVELS))
        ranking = draw(st.lists(st.sampled_from([*mentor_ids, "ghost"]), max_size=4))
        wishes = draw(st.sampled_from([None, {}, {"gender": "woman"}, {"urim": "yes"}]))
        mentees.append(
            Mentee(
                id=mentee_id,
                institution_id=draw(st.sampled_from(institutions)),
                level_rank=level_rank(level),
                training_level=level,
                interests=_subset(draw, TOPICS, 3),
                goals_keywords=_subset(draw, TOPICS, 2),
                languages=_subset(draw, LANGUAGES, 2),
                meeting_mode=draw(st.sampled_from(MODES)),
                availability=_subset(draw, SLOTS, 3),
                ranking=tuple(ranking),
                identity_preferences=wishes,
                conflicts=_subset(draw, people, 1) if draw(st.integers(0, 4)) == 0 else frozenset(),
                withdrawn=draw(st.integers(0, 9)) == 0,
            )
        )
    mentors = []
    for mentor_id in mentor_ids:
        level = draw(st.sampled_from(MENTOR_LEVELS))
        ranking = draw(st.lists(st.sampled_from(mentee_ids or ["ghost"]), max_size=4))
        mentors.append(
            Mentor(
                id=mentor_id,
                institution_id=draw(st.sampled_from(institutions)),
                level_rank=level_rank(level),
                training_level=level,
                interests=_subset(draw, TOPICS, 3),
                languages=_subset(draw, LANGUAGES, 2),
                meeting_mode=draw(st.sampled_from(MODES)),
                availability=_subset(draw, SLOTS, 3),
                capacity=draw(st.integers(0, max_capacity)),
                ranking=tuple(ranking),
                identity=draw(st.sampled_from([None, {"gender": "woman"}, {"urim": "yes"}])),
                conflicts=_subset(draw, people, 1) if draw(st.integers(0, 4)) == 0 else frozenset(),
                withdrawn=draw(st.integers(0, 9)) == 0,
            )
        )
    # Now and then the cycle names the levels that may take each role.
    rules = Rules(
        min_level_gap=draw(st.sampled_from([1, 2, 3])),
        cross_institution=draw(st.booleans()),
        mentee_levels=draw(st.sampled_from([None, None, frozenset({"MS4", "PGY1"})])),
        mentor_levels=draw(st.sampled_from([None, None, frozenset({"PGY2", "PGY4"})])),
    )
    instance = Instance(mentees, mentors, rules)
    if with_pins and mentees and mentors:
        instance.excluded = (
            _subset(draw, people, 1) if draw(st.integers(0, 3)) == 0 else frozenset()
        )
        wanted = draw(
            st.lists(st.tuples(st.sampled_from(mentees), st.sampled_from(mentors)), max_size=2)
        )
        load: Counter[str] = Counter()
        for mentee, mentor in wanted:
            if (
                acceptable(mentee, mentor, rules)
                and mentee.id not in {p[0] for p in instance.pinned}
                and load[mentor.id] < mentor.capacity
                and not {mentee.id, mentor.id} & instance.excluded
            ):
                load[mentor.id] += 1
                instance.pinned.append((mentee.id, mentor.id))
    return instance


def check_result(instance: Instance, result: Result) -> None:
    """Hard rules, capacities, pins, exclusions and explanations hold for any algorithm's result."""
    mentees = {m.id: m for m in instance.mentees}
    mentors = {m.id: m for m in instance.mentors}
    rules = instance.rules
    seen: set[str] = set()
    load: Counter[str] = Counter()
    for pair in result.pairs:
        mentee, mentor = mentees[pair.mentee_id], mentors[pair.mentor_id]
        assert acceptable(mentee, mentor, rules), pair
        assert pair.mentee_id not in seen, f"{pair.mentee_id} paired twice"
        assert not {pair.mentee_id, pair.mentor_id} & instance.excluded
        seen.add(pair.mentee_id)
        load[pair.mentor_id] += 1
        assert pair.score == score(mentee, mentor, rules)
    for mentor_id, count in load.items():
        assert count <= mentors[mentor_id].capacity, f"{mentor_id} over capacity"
    assert set(instance.pinned) <= result.pair_ids()
    pinned_flags = {(p.mentee_id, p.mentor_id) for p in result.pairs if p.pinned}
    assert pinned_flags == set(instance.pinned)
    for mentee in instance.mentees:
        if mentee.id in instance.excluded:
            continue
        if mentee.withdrawn or mentee.id not in seen:
            assert mentee.id in result.unmatched, mentee.id
        refusal = rules.level_refusal(mentee)
        if refusal and not mentee.withdrawn and mentee.id not in {m.id for m in mentors.values()}:
            assert result.unmatched[mentee.id] == refusal  # the rule that left them out, by name
    for mentor in instance.mentors:
        if mentor.id not in instance.excluded and not load[mentor.id]:
            assert mentor.id in result.unmatched, mentor.id
    for person_id in result.unmatched:
        assert person_id not in seen or person_id in mentors  # someone in both roles
