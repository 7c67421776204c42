"""Both sides rank: a mentor's order of mentees is their own ranking first, then the rest by
score. Stable results are stable against both sides' orders by their plain definitions, and the
same whether a mentor's ranking is scanned or looked up in a table."""

from __future__ import annotations

import importlib

from hypothesis import given
from hypothesis import strategies as st
from pairing_instances import Instance, instances
from test_pairing_properties import SETTINGS, _own_pairs, _plain_mentee_lists

from bench.pairing_shapes import bare_deferred_acceptance
from services.pairing.engine import Mentee, Mentor, acceptable, preference_lists, respect_pins
from services.pairing.engine import stable as run_stable
from services.pairing.engine.rules import total_score

# The module, not the function the package exports under the same name.
stable_module = importlib.import_module("services.pairing.engine.stable")


def _mentor_key(mentor: Mentor, mentee: Mentee, index: int, weights) -> tuple:
    """A mentor's order by the definition: ranked mentees by their first place, then the rest
    by score (best first), ties by the mentee's place in the pool."""
    if mentee.id in mentor.ranking:
        return (0, mentor.ranking.index(mentee.id), 0.0, index)
    return (1, 0, -total_score(mentee, mentor, weights), index)


def _blocking_pairs(instance: Instance, result, use_scores: bool) -> list[tuple[str, str]]:
    pool = respect_pins(instance.mentees, instance.mentors, instance.rules, instance.pinned,
                        instance.excluded)  # fmt: skip
    weights = instance.rules.weight_vector()
    index = {m.id: i for i, m in enumerate(pool.mentees)}
    mentee_of = {m.id: m for m in pool.mentees}
    lists = _plain_mentee_lists(instance, use_scores)
    mentor_of = _own_pairs(result)
    held: dict[str, list[str]] = {m.id: [] for m in pool.mentors}
    for mentee_id, mentor_id in mentor_of.items():
        held[mentor_id].append(mentee_id)
    blocking = []
    for mentor in pool.mentors:
        # Only mentees who list the mentor can block with them (a mentee never proposes past
        # their own list).
        for mentee in pool.mentees:
            listed = lists[mentee.id]
            if mentor.id not in listed or not acceptable(mentee, mentor, instance.rules):
                continue
            current = mentor_of.get(mentee.id)
            if current is not None and listed.index(current) <= listed.index(mentor.id):
                continue
            key = _mentor_key(mentor, mentee, index[mentee.id], weights)
            others = [_mentor_key(mentor, mentee_of[o], index[o], weights) for o in held[mentor.id]]
            if len(others) < mentor.capacity or key < max(others):
                blocking.append((mentee.id, mentor.id))
    return blocking


@SETTINGS
@given(instances(max_mentees=8, max_mentors=5), st.booleans())
def test_stable_has_no_blocking_pair_under_both_sides_plain_orders(
    instance: Instance, use_scores: bool
):
    kwargs = {"use_scores_for_unranked": use_scores, **instance.kwargs()}
    result = run_stable(instance.mentees, instance.mentors, instance.rules, **kwargs)
    assert _blocking_pairs(instance, result, use_scores) == []


@SETTINGS
@given(instances(max_mentees=8, max_mentors=5), st.booleans())
def test_mentor_lists_are_their_ranking_then_score(instance: Instance, use_scores: bool):
    kwargs = {"use_scores_for_unranked": use_scores, **instance.kwargs()}
    _, mentor_lists, _ = preference_lists(
        instance.mentees, instance.mentors, instance.rules, **kwargs
    )
    pool = respect_pins(instance.mentees, instance.mentors, instance.rules, instance.pinned,
                        instance.excluded)  # fmt: skip
    weights = instance.rules.weight_vector()
    index = {m.id: i for i, m in enumerate(pool.mentees)}
    mentee_of = {m.id: m for m in pool.mentees}
    for mentor in pool.mentors:
        listed = mentor_lists[mentor.id]
        keys = [_mentor_key(mentor, mentee_of[e], index[e], weights) for e in listed]
        assert keys == sorted(keys)


@SETTINGS
@given(instances(max_mentees=8, max_mentors=5), st.booleans())
def test_looked_up_rankings_give_what_scanned_rankings_give(instance: Instance, use_scores: bool):
    """Long mentor rankings are looked up in a table (constant time a proposal); forcing every
    ranking into a table changes nothing, and still equals the reference."""
    kwargs = {"use_scores_for_unranked": use_scores, **instance.kwargs()}
    scanned = run_stable(instance.mentees, instance.mentors, instance.rules, **kwargs)
    saved = stable_module.SCANNED_RANKING
    stable_module.SCANNED_RANKING = 0
    try:
        tabled = run_stable(instance.mentees, instance.mentors, instance.rules, **kwargs)
        prefs = preference_lists(instance.mentees, instance.mentors, instance.rules, **kwargs)
    finally:
        stable_module.SCANNED_RANKING = saved
    assert (tabled.pairs, tabled.unmatched, tabled.blocking_pairs) == (
        scanned.pairs, scanned.unmatched, scanned.blocking_pairs,
    )  # fmt: skip
    assert set(_own_pairs(tabled).items()) == bare_deferred_acceptance(*prefs)


def test_a_mentors_ranking_outweighs_scores():
    trauma = frozenset({"trauma"})
    # Both mentees want m1 first; by score m1 would keep e1 (shared interest), but m1 ranks e2.
    mentees = [Mentee("e1", "a", 7, interests=trauma, ranking=("m1", "m2")),
               Mentee("e2", "a", 7, ranking=("m1", "m2"))]  # fmt: skip
    by_score = [Mentor("m1", "a", 10, interests=trauma), Mentor("m2", "a", 10)]
    assert run_stable(mentees, by_score).pair_ids() == {("e1", "m1"), ("e2", "m2")}
    ranked = [Mentor("m1", "a", 10, interests=trauma, ranking=("e2",)), Mentor("m2", "a", 10)]
    assert run_stable(mentees, ranked).pair_ids() == {("e2", "m1"), ("e1", "m2")}
