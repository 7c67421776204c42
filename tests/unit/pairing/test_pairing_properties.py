"""Property tests: every algorithm respects the hard rules on random small instances, stable is
stable and agrees with the `matching` package, optimal agrees with brute force."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import random
import warnings
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pairing_instances import Instance, check_result, instances
from reference_explain import reference_reasons

from bench.pairing_shapes import bare_deferred_acceptance
from services.pairing.engine import (
    Result,
    acceptable,
    candidates,
    count_blocking_pairs,
    explain_unmatched,
    optimal,
    preference_lists,
    random_pairing,
    respect_pins,
    score_orders,
    stable,
)
from services.pairing.engine.candidates import Features, best_first, candidate_edges
from services.pairing.engine.model import SOFT_RULES, Rules
from services.pairing.engine.rules import total_score

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(instances(), st.booleans())
def test_stable_respects_rules_and_has_no_blocking_pair(instance: Instance, use_scores: bool):
    result = stable(
        instance.mentees, instance.mentors, instance.rules,
        use_scores_for_unranked=use_scores, **instance.kwargs(),
    )  # fmt: skip
    check_result(instance, result)
    assert result.blocking_pairs == 0
    assert (
        count_blocking_pairs(
            instance.mentees,
            instance.mentors,
            result,
            instance.rules,
            use_scores_for_unranked=use_scores,
            **instance.kwargs(),
        )
        == 0
    )


def _matching_pairs(mentee_prefs, mentor_prefs, capacities) -> set[tuple[str, str]]:
    from matching.games import HospitalResident

    residents = {r: prefs for r, prefs in mentee_prefs.items() if prefs}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        game = HospitalResident.create_from_dictionaries(residents, mentor_prefs, capacities)
        solved = game.solve(optimal="resident")
    return {(r.name, h.name) for h, rs in solved.items() for r in rs}


@SETTINGS
@given(instances(max_mentees=6, max_mentors=4), st.booleans())
def test_stable_equals_the_matching_package(instance: Instance, use_scores: bool):
    kwargs = {"use_scores_for_unranked": use_scores, **instance.kwargs()}
    prefs = preference_lists(instance.mentees, instance.mentors, instance.rules, **kwargs)
    try:
        theirs = _matching_pairs(*prefs)
    except IndexError:  # the package fails on some empty preference lists
        assume(False)
    ours = stable(instance.mentees, instance.mentors, instance.rules, **kwargs)
    assert {(p.mentee_id, p.mentor_id) for p in ours.pairs if not p.pinned} == theirs


def test_stable_detects_a_blocking_pair_in_a_worse_result():
    from services.pairing.engine import Mentee, Mentor, Result

    mentees = [Mentee("e1", "a", 7, ranking=("m1", "m2")), Mentee("e2", "a", 7, ranking=("m1",))]
    mentors = [Mentor("m1", "a", 10, ranking=("e1", "e2")), Mentor("m2", "a", 10)]
    good = stable(mentees, mentors)
    assert good.pair_ids() == {("e1", "m1"), ("e2", "m2")} or good.pair_ids() == {("e1", "m1")}
    swapped = Result([p for p in good.pairs if p.mentee_id != "e1"], {})
    assert count_blocking_pairs(mentees, mentors, swapped) >= 1


def _brute_force_best(instance: Instance) -> float:
    pool = respect_pins(instance.mentees, instance.mentors, instance.rules, instance.pinned,
                        instance.excluded)  # fmt: skip
    weights = instance.rules.weight_vector()
    options = [
        [None] + [r for r in pool.mentors if acceptable(e, r, instance.rules)] for e in pool.mentees
    ]
    best = 0.0
    for choice in itertools.product(*options):
        load: dict[str, int] = {}
        total = 0.0
        for mentee, mentor in zip(pool.mentees, choice, strict=True):
            if mentor is not None:
                load[mentor.id] = load.get(mentor.id, 0) + 1
                total += total_score(mentee, mentor, weights)
        if all(load[r.id] <= r.capacity for r in pool.mentors if r.id in load):
            best = max(best, total)
    return best + sum(p.score.total for p in pool.pinned)


@SETTINGS
@given(instances(max_mentees=6, max_mentors=3, max_capacity=2))
def test_optimal_reaches_the_brute_force_maximum(instance: Instance):
    result = optimal(instance.mentees, instance.mentors, instance.rules, **instance.kwargs())
    check_result(instance, result)
    assert result.total_score == pytest.approx(_brute_force_best(instance), abs=1e-4)


@SETTINGS
@given(instances(), st.integers(1, 3))
def test_optimal_over_a_shortlist_respects_rules(instance: Instance, k: int):
    result = optimal(
        instance.mentees, instance.mentors, instance.rules,
        candidates_per_mentee=k, **instance.kwargs(),
    )  # fmt: skip
    check_result(instance, result)


@SETTINGS
@given(instances(), st.integers(0, 2**32))
def test_random_pairing_respects_rules_and_is_reproducible(instance: Instance, seed: int):
    first = random_pairing(instance.mentees, instance.mentors, instance.rules, seed=seed,
                           **instance.kwargs())  # fmt: skip
    check_result(instance, first)
    shuffled = list(instance.mentees)
    random.Random(seed).shuffle(shuffled)
    again = random_pairing(shuffled, instance.mentors[::-1], instance.rules, seed=seed,
                           **instance.kwargs())  # fmt: skip
    assert again.pairs == first.pairs
    assert again.unmatched == first.unmatched


@SETTINGS
@given(instances(with_pins=False), st.integers(1, 4))
def test_vectorised_scores_equal_the_pair_by_pair_scores(instance: Instance, top_k: int):
    pool = respect_pins(instance.mentees, instance.mentors, instance.rules)
    weights = instance.rules.weight_vector()
    edges = candidate_edges(pool, instance.rules)
    expected = {
        (i, j): total_score(e, r, weights)
        for i, e in enumerate(pool.mentees)
        for j, r in enumerate(pool.mentors)
        if acceptable(e, r, instance.rules)
    }
    got = dict(zip(zip(edges.mentee.tolist(), edges.mentor.tolist(), strict=True),
                   edges.score.tolist(), strict=True))  # fmt: skip
    assert got == expected  # same operations in the same order: equal, not just close
    shortlist = candidate_edges(pool, instance.rules, top_k)
    for i in range(len(pool.mentees)):
        mine = sorted(((-s, j) for (m, j), s in expected.items() if m == i))[:top_k]
        kept = np.flatnonzero(shortlist.mentee == i)
        assert sorted(shortlist.mentor[kept].tolist()) == sorted(j for _, j in mine)


@SETTINGS
@given(
    st.lists(st.lists(st.integers(0, 3), min_size=5, max_size=5), min_size=1, max_size=4),
    st.integers(0, 7),
)
def test_best_first_is_the_head_of_a_stable_sort(rows: list[list[int]], stop: int):
    """Many equal totals (few distinct values): the head keeps them in column order."""
    totals = np.array(rows, dtype=np.float64) / 4
    expected = np.argsort(-totals, axis=1, kind="stable")[:, :stop]
    assert best_first(totals, stop).tolist() == expected.tolist()


@SETTINGS
@given(
    instances(with_pins=False),
    st.lists(st.sampled_from([0.0, 0.5, 1.0, 2.0]), min_size=len(SOFT_RULES),
             max_size=len(SOFT_RULES)),
    st.integers(0, 140),
    st.sampled_from([0, candidates.TABLE_ENTRIES]),
)  # fmt: skip
def test_vectorised_scores_with_any_weights_and_wide_vocabularies(
    instance: Instance, weights: list[float], extra_words: int, table_entries: int
):
    """Rules weighted 0 are left out, goal words no mentor lists only count towards the goals,
    and interests past 64 topics take a second word of bits: totals stay equal to the pair by
    pair ones, whether rules are looked up in tables of distinct features or computed per pair
    (pools with too many distinct features)."""
    rules = Rules(weights=dict(zip(SOFT_RULES, weights, strict=True)))
    words = frozenset(f"word{k}" for k in range(extra_words))
    mentees = [
        dataclasses.replace(
            e, interests=e.interests | words, goals_keywords=e.goals_keywords | words
        )
        for e in instance.mentees
    ]
    # Some of the extra words are also a mentor's interest: some shared, some not.
    mentors = [
        dataclasses.replace(
            r, interests=r.interests | {f"word{k}" for k in range(j % 2, extra_words, 2 + j % 3)}
        )
        for j, r in enumerate(instance.mentors)
    ]
    assume(mentees and mentors)
    with mock.patch.object(candidates, "TABLE_ENTRIES", table_entries):
        features = Features(tuple(mentees), tuple(mentors))
    vector = rules.weight_vector()
    rows = np.arange(len(mentees))[:, None]
    cols = np.arange(len(mentors))[None, :]
    got = features.scores(rows, cols, vector).tolist()
    assert got == [[total_score(e, r, vector) for r in mentors] for e in mentees]


def _own_pairs(result) -> dict[str, str]:
    return {p.mentee_id: p.mentor_id for p in result.pairs if not p.pinned}


@SETTINGS
@given(instances(max_mentees=8, max_mentors=5), st.booleans())
def test_stable_equals_the_reference_deferred_acceptance(instance: Instance, use_scores: bool):
    kwargs = {"use_scores_for_unranked": use_scores, **instance.kwargs()}
    prefs = preference_lists(instance.mentees, instance.mentors, instance.rules, **kwargs)
    ours = stable(instance.mentees, instance.mentors, instance.rules, **kwargs)
    assert set(_own_pairs(ours).items()) == bare_deferred_acceptance(*prefs)


@settings(SETTINGS, max_examples=300)
@given(instances(max_mentees=8, max_mentors=5), st.booleans(), st.sampled_from([None, 1, 2]))
def test_explanations_equal_the_reference(instance: Instance, use_scores: bool, k: int | None):
    """Explanations found through the eligibility indexes say what listing every eligible
    mentor for every mentee says, for each kind of run."""
    pool = respect_pins(instance.mentees, instance.mentors, instance.rules, instance.pinned,
                        instance.excluded)  # fmt: skip
    ranked = stable(instance.mentees, instance.mentors, instance.rules,
                    use_scores_for_unranked=use_scores, **instance.kwargs())  # fmt: skip
    assert ranked.unmatched == reference_reasons(
        pool, instance.rules, _own_pairs(ranked), ranked_only=not use_scores
    )
    best = optimal(instance.mentees, instance.mentors, instance.rules,
                   candidates_per_mentee=k, **instance.kwargs())  # fmt: skip
    assert best.unmatched == reference_reasons(
        pool, instance.rules, _own_pairs(best), shortlisted=k is not None
    )
    edited = Result(best.pairs[::2], {})
    assert explain_unmatched(
        instance.mentees, instance.mentors, edited, instance.rules, **instance.kwargs()
    ) == reference_reasons(pool, instance.rules, _own_pairs(edited))


def test_explanations_pass_over_conflicts_on_either_side():
    from services.pairing.engine import Mentee, Mentor
    from services.pairing.engine.explain import ALL_MENTORS_FULL, NO_ELIGIBLE_MENTOR

    mentees = [Mentee("e1", "a", 7), Mentee("e2", "a", 7, conflicts=frozenset({"m2"})),
               Mentee("e3", "a", 7)]  # fmt: skip
    mentors = [Mentor("m1", "a", 10, conflicts=frozenset({"e1", "e2"})), Mentor("m2", "a", 10)]
    result = stable(mentees, mentors, pinned=[("e3", "m2")])
    assert result.unmatched["e1"] == ALL_MENTORS_FULL  # m2 would do, but e3 holds its place
    assert result.unmatched["e2"] == NO_ELIGIBLE_MENTOR  # m1 refuses e2, e2 refuses m2


def _plain_mentee_lists(instance: Instance, use_scores: bool) -> dict[str, list[str]]:
    """Each mentee's list by the definition: their acceptable ranked mentors, then (if scores
    extend lists) every other acceptable mentor by score, ties by id."""
    pool = respect_pins(instance.mentees, instance.mentors, instance.rules, instance.pinned,
                        instance.excluded)  # fmt: skip
    weights, rules = instance.rules.weight_vector(), instance.rules
    by_id = {m.id: m for m in pool.mentors}
    lists = {}
    for mentee in pool.mentees:
        ranked = list(dict.fromkeys(
            r for r in mentee.ranking if r in by_id and acceptable(mentee, by_id[r], rules)
        ))  # fmt: skip
        rest = sorted(
            (-total_score(mentee, m, weights), m.id)
            for m in pool.mentors
            if m.id not in ranked and acceptable(mentee, m, rules)
        )
        lists[mentee.id] = ranked + [m for _, m in rest] if use_scores else ranked
    return lists


@contextlib.contextmanager
def _score_orders_vectorised():
    """Every score order computed with numpy, in tiny batches, keeping one place per order."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(score_orders, "VECTORISED_FROM", 1)
        patch.setattr(score_orders, "BATCH_SCORES", 3)
        patch.setattr(score_orders, "KEPT", 1)
        yield


@SETTINGS
@given(instances(max_mentees=8, max_mentors=5), st.booleans(), st.booleans())
def test_mentee_lists_follow_the_definition(instance: Instance, use_scores: bool, numpy: bool):
    """Shared score orders, pair by pair or vectorised, give each mentee the list the plain
    definition gives, and the same stable result."""
    kwargs = {"use_scores_for_unranked": use_scores, **instance.kwargs()}
    plain = stable(instance.mentees, instance.mentors, instance.rules, **kwargs)
    with _score_orders_vectorised() if numpy else contextlib.nullcontext():
        prefs = preference_lists(instance.mentees, instance.mentors, instance.rules, **kwargs)
        ours = stable(instance.mentees, instance.mentors, instance.rules, **kwargs)
    assert prefs[0] == _plain_mentee_lists(instance, use_scores)
    assert set(_own_pairs(ours).items()) == bare_deferred_acceptance(*prefs)
    assert (ours.pairs, ours.unmatched, ours.blocking_pairs) == (
        plain.pairs,
        plain.unmatched,
        plain.blocking_pairs,
    )


def test_mentees_with_one_profile_share_an_order_but_not_their_rankings():
    from services.pairing.engine import Mentee, Mentor

    # Both share m2's interest; e1 also ranked m1, which is worth more to e1 alone.
    trauma = frozenset({"trauma"})
    mentees = [Mentee("e1", "a", 7, interests=trauma, ranking=("m1",)),
               Mentee("e2", "a", 7, interests=trauma)]  # fmt: skip
    mentors = [Mentor("m1", "a", 10), Mentor("m2", "a", 10, interests=trauma)]
    for numpy in (False, True):
        with _score_orders_vectorised() if numpy else contextlib.nullcontext():
            mentee_lists, _, _ = preference_lists(mentees, mentors)
        assert mentee_lists == {"e1": ["m1", "m2"], "e2": ["m2", "m1"]}
