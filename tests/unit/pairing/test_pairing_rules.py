"""Example-based tests: each hard rule, scoring, pins, carrying pairs over, explanations."""

from __future__ import annotations

import dataclasses

import pytest

from services.pairing.engine import (
    Mentee,
    Mentor,
    PinError,
    Rules,
    acceptable,
    explain_unmatched,
    keep_previous_pairs,
    level_rank,
    optimal,
    random_pairing,
    score,
    stable,
    violations,
)
from services.pairing.engine.explain import (
    ALL_MENTORS_FULL,
    NO_CAPACITY,
    NO_ELIGIBLE_MENTEE,
    NO_ELIGIBLE_MENTOR,
    RANKED_DECLINED,
    WITHDRAWN,
)

ALGORITHMS = [
    stable,
    optimal,
    lambda *a, **k: random_pairing(*a, seed=1, **k),
]


def mentee(id="e1", inst="a", level=7, **kw) -> Mentee:
    return Mentee(id, inst, level, **kw)


def mentor(id="m1", inst="a", level=10, **kw) -> Mentor:
    return Mentor(id, inst, level, **kw)


def test_level_rank_scale():
    assert level_rank("MS1") == 1 and level_rank("MS6") == 6
    assert level_rank("PGY1") == 7 and level_rank("PGY7") == 13
    assert level_rank("research_resident") == level_rank("PGY4") == 10
    assert level_rank("fellow") == 14 and level_rank("faculty") == 20
    with pytest.raises(ValueError):
        level_rank("intern")


@pytest.mark.parametrize(
    ("e", "m", "rules", "broken"),
    [
        (mentee(level=9), mentor(level=10), Rules(), "level gap below 2"),
        (mentee(inst="a"), mentor(inst="b"), Rules(), "different institutions"),
        (mentee(conflicts=frozenset({"m1"})), mentor(), Rules(), "declared conflict"),
        (mentee(), mentor(conflicts=frozenset({"e1"})), Rules(), "declared conflict"),
        (mentee(withdrawn=True), mentor(), Rules(), "mentee withdrawn"),
        (mentee(), mentor(withdrawn=True), Rules(), "mentor withdrawn"),
        (mentee(id="p1"), mentor(id="p1"), Rules(), "same person"),
    ],
)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_hard_rule_blocks_the_pair(e, m, rules, broken, algorithm):
    assert broken in violations(e, m, rules)
    assert not acceptable(e, m, rules)
    assert algorithm([e], [m], rules).pairs == []


def test_cross_institution_and_gap_are_configurable():
    e, m = mentee(level=9), mentor(inst="b", level=10)
    assert acceptable(e, m, Rules(min_level_gap=1, cross_institution=True))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_capacity_is_never_exceeded(algorithm):
    mentees = [mentee(f"e{i}") for i in range(5)]
    result = algorithm(mentees, [mentor(capacity=2)])
    assert len(result.pairs) == 2
    assert sum(1 for r in result.unmatched.values() if r == ALL_MENTORS_FULL) == 3


def test_score_breakdown_rule_by_rule():
    e = mentee(
        interests=frozenset({"trauma", "research"}), goals_keywords=frozenset({"research"}),
        languages=frozenset({"en", "es"}), meeting_mode="virtual",
        availability=frozenset({"mon-am", "tue-pm"}), ranking=("m0", "m1"),
        identity_preferences={"gender": "woman"},
    )  # fmt: skip
    m = mentor(
        interests=frozenset({"research"}), languages=frozenset({"es"}), meeting_mode="either",
        availability=frozenset({"tue-pm", "fri-am"}), identity={"gender": "woman"},
    )  # fmt: skip
    weights = {name: 1.0 for name in Rules().weights}
    breakdown = score(e, m, Rules(weights=weights))
    assert breakdown.by_rule == {
        "specialty_interests": 0.5, "goals": 1.0, "language": 1.0, "meeting_mode": 1.0,
        "ranked_interest": pytest.approx(0.9), "identity": 1.0, "availability": 0.5,
    }  # fmt: skip
    assert breakdown.total == pytest.approx(5.9)
    unconsented = score(mentee(), m, Rules(weights=weights))
    assert unconsented.by_rule["identity"] == 0.0 and unconsented.by_rule["ranked_interest"] == 0
    assert score(mentee(meeting_mode="virtual"), mentor(meeting_mode="in_person"),
                 Rules()).by_rule["meeting_mode"] == 0  # fmt: skip


def test_ranked_interest_falls_to_a_tenth_for_the_tenth_choice():
    ranking = tuple(f"m{k}" for k in range(10))
    weights = {"ranked_interest": 1.0}
    tenth = score(mentee(ranking=ranking), mentor("m9"), Rules(weights=weights))
    assert tenth.by_rule["ranked_interest"] == pytest.approx(0.1)


def test_stable_follows_rankings_and_mentor_preferences():
    mentees = [mentee("e1", ranking=("m1", "m2")), mentee("e2", ranking=("m1", "m2"))]
    mentors = [mentor("m1", ranking=("e2", "e1")), mentor("m2")]
    result = stable(mentees, mentors)
    assert result.pair_ids() == {("e2", "m1"), ("e1", "m2")}
    assert result.blocking_pairs == 0


def test_stable_ranked_only_explains_declines():
    mentees = [mentee("e1", ranking=("m1",)), mentee("e2", ranking=("m1",))]
    mentors = [mentor("m1", ranking=("e2",)), mentor("m2")]
    result = stable(mentees, mentors, use_scores_for_unranked=False)
    assert result.pair_ids() == {("e2", "m1")}
    assert result.unmatched["e1"] == RANKED_DECLINED
    assert "m2" in result.unmatched


def test_explanations():
    mentees = [
        mentee("e1", level=9),  # nobody two levels up
        mentee("e2", interests=frozenset({"trauma"})),  # the better fit for m1
        mentee("e3"),
        mentee("e4", withdrawn=True),
    ]
    mentors = [
        mentor("m1", capacity=1, interests=frozenset({"trauma"})),
        mentor("m2", level=8),
        mentor("m3", capacity=0),
    ]
    result = optimal(mentees, mentors)
    assert result.unmatched == {
        "e1": NO_ELIGIBLE_MENTOR,
        "e3": ALL_MENTORS_FULL,
        "e4": WITHDRAWN,
        "m2": NO_ELIGIBLE_MENTEE,
        "m3": NO_CAPACITY,
    }
    assert explain_unmatched(mentees, mentors, result) == result.unmatched


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pins_stay_and_count_against_capacity(algorithm):
    mentees = [mentee("e1", ranking=("m1",)), mentee("e2", ranking=("m1",))]
    mentors = [mentor("m1", capacity=1), mentor("m2", capacity=1)]
    result = algorithm(mentees, mentors, pinned=[("e2", "m2")], excluded=frozenset())
    assert ("e2", "m2") in result.pair_ids()
    assert [p.pinned for p in result.pairs if p.mentee_id == "e2"] == [True]
    excluded = algorithm(mentees, mentors, excluded=frozenset({"m1"}))
    assert all(p.mentor_id != "m1" for p in excluded.pairs)


def test_bad_pins_are_refused():
    mentees, mentors = [mentee("e1"), mentee("e2")], [mentor("m1", capacity=1)]
    with pytest.raises(PinError, match="capacity"):
        stable(mentees, mentors, pinned=[("e1", "m1"), ("e2", "m1")])
    with pytest.raises(PinError, match="hard rule"):
        stable([mentee(conflicts=frozenset({"m1"}))], mentors, pinned=[("e1", "m1")])
    with pytest.raises(PinError, match="not enrolled"):
        stable(mentees, mentors, pinned=[("e9", "m1")])


def test_keep_previous_pairs():
    mentees = [mentee("e1"), mentee("e2"), mentee("e3", level=9), mentee("e4")]
    mentors = [mentor("m1", capacity=2), mentor("m2")]
    previous = [("e1", "m1"), ("e2", "m2"), ("e3", "m1"), ("e4", "m1"), ("gone", "m1")]
    kept = keep_previous_pairs(previous, mentees, mentors, opted_out={"m2"})
    # e2's mentor opted out, e3 is now too senior for m1, "gone" did not re-enrol.
    assert kept == [("e1", "m1"), ("e4", "m1")]
    assert ("e1", "m1") in stable(mentees, mentors, pinned=kept).pair_ids()


# --- eligible levels per role ------------------------------------------------------------------


def _levelled(level: str, role: str, id: str) -> Mentee | Mentor:
    person = Mentee if role == "mentee" else Mentor
    return person(id, "a", level_rank(level), training_level=level)


def test_eligible_levels_are_hard_rules_named_in_words():
    rules = Rules(min_level_gap=1, mentee_levels=frozenset({"MS6"}), mentor_levels={"PGY1"})
    student, intern = _levelled("MS6", "mentee", "e1"), _levelled("PGY1", "mentor", "m1")
    assert acceptable(student, intern, rules)
    senior = _levelled("PGY3", "mentor", "m2")
    assert not acceptable(student, senior, rules)
    assert violations(student, senior, rules) == [
        "PGY3 is not an eligible mentor level for this cycle"
    ]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_algorithm_leaves_out_ineligible_levels_with_the_rule(algorithm):
    """PGY1s coach final-year students: the default gap of 2 would shut every student out."""
    students = [_levelled("MS6", "mentee", f"e{k}") for k in range(3)]
    students.append(_levelled("MS3", "mentee", "e9"))
    coaches = [_levelled("PGY1", "mentor", "m1"), _levelled("PGY3", "mentor", "m2")]
    coaches = [dataclasses.replace(c, capacity=3) for c in coaches]
    assert algorithm(students[:3], coaches, Rules()).unmatched["m1"] == NO_ELIGIBLE_MENTEE
    rules = Rules(min_level_gap=1, mentee_levels={"MS6"}, mentor_levels={"PGY1"})
    result = algorithm(students, coaches, rules)
    assert {p.mentee_id for p in result.pairs} == {"e0", "e1", "e2"}
    assert {p.mentor_id for p in result.pairs} == {"m1"}
    assert result.unmatched == {
        "e9": "MS3 is not an eligible mentee level for this cycle",
        "m2": "PGY3 is not an eligible mentor level for this cycle",
    }


def test_a_pin_of_an_ineligible_level_is_refused():
    rules = Rules(min_level_gap=1, mentor_levels={"PGY1"})
    students = [_levelled("MS6", "mentee", "e1")]
    coaches = [_levelled("PGY3", "mentor", "m2")]
    with pytest.raises(PinError, match="PGY3 is not an eligible mentor level"):
        stable(students, coaches, rules, pinned=[("e1", "m2")])
