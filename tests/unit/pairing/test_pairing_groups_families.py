"""Group coaching and mentoring families: hard rules, balance, exactness on small cycles."""

from __future__ import annotations

import itertools
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pairing_instances import Instance, check_result, instances

from services.pairing.engine import (
    Composition,
    Mentee,
    Mentor,
    Rules,
    acceptable,
    families,
    groups,
    level_rank,
    score,
)
from services.pairing.engine.groups import _spread

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _sizes(result, coaches) -> list[int]:
    load = Counter(p.mentor_id for p in result.pairs)
    return [load[c.id] for c in coaches if load[c.id]]


@SETTINGS
@given(instances(max_mentees=6, max_mentors=3), st.integers(1, 4))
def test_groups_respect_rules_and_group_size(instance: Instance, size: int):
    result = groups(instance.mentees, instance.mentors, instance.rules, group_size=size,
                    **instance.kwargs())  # fmt: skip
    check_result(instance, result)
    load = Counter(p.mentor_id for p in result.pairs)
    pin_load = Counter(m for _, m in instance.pinned)
    for coach_id, count in load.items():
        assert count <= max(size, pin_load[coach_id])


@SETTINGS
@given(instances(max_mentees=5, max_mentors=3, with_pins=False), st.integers(1, 3))
def test_groups_are_exact_on_small_cycles(instance: Instance, size: int):
    result = groups(instance.mentees, instance.mentors, instance.rules, group_size=size)
    active = [m for m in instance.mentees if not m.withdrawn]
    coaches = [c for c in instance.mentors if not c.withdrawn]
    best = None
    for choice in itertools.product([None, *coaches], repeat=len(active)):
        pairs = [(e, c) for e, c in zip(active, choice, strict=True) if c is not None]
        if not all(acceptable(e, c, instance.rules) for e, c in pairs):
            continue
        load = Counter(c.id for _, c in pairs)
        if any(load[c.id] > min(c.capacity, size) for c in coaches):
            continue
        total = sum(score(e, c, instance.rules).total for e, c in pairs)
        key = (len(pairs), -_spread(list(load.values())), round(total, 6))
        best = key if best is None or key > best else best
    got = (len(result.pairs), -_spread(_sizes(result, coaches)), round(result.total_score, 6))
    assert got == best


def test_large_groups_are_balanced_when_everyone_fits_everywhere():
    coaches = [Mentor(f"c{k}", "a", 20, capacity=12) for k in range(7)]
    mentees = [Mentee(f"e{i:03d}", "a", 7, interests=frozenset({f"t{i % 5}"})) for i in range(40)]
    result = groups(mentees, coaches, group_size=10, time_limit_s=1.0)
    sizes = _sizes(result, coaches)
    assert sum(sizes) == 40 and max(sizes) - min(sizes) <= 1


def _family_people(n_seniors=2, n_mids=2, n_juniors=5, institutions=("a",)):
    seniors = [Mentor(f"s{k}", institutions[k % len(institutions)], 10, capacity=4,
                      interests=frozenset({f"t{k}"})) for k in range(n_seniors)]  # fmt: skip
    mids = [Mentor(f"d{k}", institutions[k % len(institutions)], 9, capacity=4,
                   interests=frozenset({f"t{k + 1}"})) for k in range(n_mids)]  # fmt: skip
    juniors = [Mentee(f"j{k}", institutions[k % len(institutions)], 7,
                      interests=frozenset({f"t{k % 3}"})) for k in range(n_juniors)]  # fmt: skip
    return seniors, mids, juniors


def _check_families(result, seniors, mids, juniors, rules, k):
    by_id = {p.id: p for p in (*seniors, *mids, *juniors)}
    seen_juniors: set[str] = set()
    used: set[str] = set()
    for family in result.families:
        assert family.senior_id not in used and family.mid_id not in used
        used.update((family.senior_id, family.mid_id))
        assert 1 <= len(family.junior_ids) <= k
        for junior_id in family.junior_ids:
            assert junior_id not in seen_juniors
            seen_juniors.add(junior_id)
            for mentor_id in (family.senior_id, family.mid_id):
                assert acceptable(by_id[junior_id], by_id[mentor_id], rules)
    assert len(result.pairs) == 2 * len(seen_juniors)
    for junior in juniors:
        assert junior.id in seen_juniors or junior.id in result.unmatched


@SETTINGS
@given(
    st.integers(1, 3), st.integers(1, 3), st.integers(0, 5), st.integers(1, 3),
    st.sampled_from([("a",), ("a", "b")]),
)  # fmt: skip
def test_families_are_well_formed_and_exact_on_tiny_cycles(s, d, j, k, institutions):
    seniors, mids, juniors = _family_people(s, d, j, institutions)
    rules = Rules()
    result = families(seniors, mids, juniors, rules, juniors_per_family=k)
    _check_families(result, seniors, mids, juniors, rules, k)
    best = 0.0
    for perm in itertools.permutations(range(max(s, d)), min(s, d)):
        cores = list(zip(range(s), perm, strict=False)) if s <= d else list(
            zip(perm, range(d), strict=False))  # fmt: skip
        cores = [(seniors[a], mids[b]) for a, b in cores
                 if seniors[a].institution_id == mids[b].institution_id]  # fmt: skip
        for choice in itertools.product([None, *range(len(cores))], repeat=len(juniors)):
            load = Counter(c for c in choice if c is not None)
            if any(v > k for v in load.values()):
                continue
            total = 0.0
            ok = True
            for junior, c in zip(juniors, choice, strict=True):
                if c is None:
                    continue
                for mentor in cores[c]:
                    ok = ok and acceptable(junior, mentor, rules)
                    total += score(junior, mentor, rules).total
            if ok:
                best = max(best, total)
    assert abs(result.total_score - best) < 1e-6


def test_families_on_a_larger_cycle_respect_rules():
    seniors, mids, juniors = _family_people(12, 12, 60, ("a", "b"))
    result = families(seniors, mids, juniors, juniors_per_family=4, time_limit_s=0.5)
    _check_families(result, seniors, mids, juniors, Rules(), 4)
    assert len(result.families) >= 10


def test_family_pins_are_kept():
    seniors, mids, juniors = _family_people(2, 2, 4)
    result = families(seniors, mids, juniors, juniors_per_family=2,
                      pinned=[("d1", "s0"), ("j0", "s1")])  # fmt: skip
    cores = {(f.senior_id, f.mid_id): f for f in result.families}
    assert ("s0", "d1") in cores
    assert any("j0" in f.junior_ids for f in result.families if f.senior_id == "s1")


# --- a composition: one intern and one PGY2 per family -----------------------------------------

INTERN_AND_PGY2 = Composition(
    senior_levels=frozenset({"PGY4", "PGY5"}),
    mid_levels=frozenset({"PGY3"}),
    junior_slots=((frozenset({"PGY1"}), 1), (frozenset({"PGY2"}), 1)),
)


def _composed_people(s: int, d: int, levels: list[str]):
    seniors = [Mentor(f"s{k}", "a", 10, capacity=4, training_level="PGY4",
                      interests=frozenset({f"t{k}"})) for k in range(s)]  # fmt: skip
    mids = [Mentor(f"d{k}", "a", 9, capacity=4, training_level="PGY3",
                   interests=frozenset({f"t{k + 1}"})) for k in range(d)]  # fmt: skip
    juniors = [Mentee(f"j{k}", "a", level_rank(level), training_level=level,
                      interests=frozenset({f"t{k % 3}"})) for k, level in enumerate(levels)]  # fmt: skip
    return seniors, mids, juniors


@SETTINGS
@given(
    st.integers(1, 3),
    st.integers(1, 3),
    st.lists(st.sampled_from(["PGY1", "PGY2", "MS4"]), max_size=5),
)
def test_families_honour_their_composition_and_are_exact(s, d, levels):
    seniors, mids, juniors = _composed_people(s, d, levels)
    rules = Rules(min_level_gap=1)
    result = families(seniors, mids, juniors, rules, composition=INTERN_AND_PGY2)
    by_id = {j.id: j for j in juniors}
    for family in result.families:
        kinds = Counter(by_id[j].training_level for j in family.junior_ids)
        assert kinds["PGY1"] <= 1 and kinds["PGY2"] <= 1 and set(kinds) <= {"PGY1", "PGY2"}
    for junior in juniors:
        if junior.training_level == "MS4":
            assert result.unmatched[junior.id] == (
                "MS4 is not an eligible junior level for this cycle"
            )
    _check_families(result, seniors, mids, juniors, rules, 2)
    best = 0.0
    for perm in itertools.permutations(range(max(s, d)), min(s, d)):
        pairs = zip(range(s), perm, strict=False) if s <= d else zip(perm, range(d), strict=False)
        cores = [(seniors[a], mids[b]) for a, b in pairs]
        for choice in itertools.product([None, *range(len(cores))], repeat=len(juniors)):
            seats = Counter(
                (c, juniors[i].training_level) for i, c in enumerate(choice) if c is not None
            )
            if any(v > 1 or level == "MS4" for (_, level), v in seats.items()):
                continue
            total = sum(
                score(junior, mentor, rules).total
                for junior, c in zip(juniors, choice, strict=True)
                if c is not None
                for mentor in cores[c]
            )
            best = max(best, total)
    assert abs(result.total_score - best) < 1e-6


def test_composed_families_take_one_of_each_when_there_are_enough():
    seniors, mids, juniors = _composed_people(3, 3, ["PGY1"] * 3 + ["PGY2"] * 3)
    result = families(seniors, mids, juniors, Rules(min_level_gap=1), composition=INTERN_AND_PGY2)
    assert len(result.families) == 3
    for family in result.families:
        assert sorted(juniors[int(j[1:])].training_level for j in family.junior_ids) == [
            "PGY1",
            "PGY2",
        ]
    wrong = Mentor("x", "a", 8, training_level="PGY2")
    result = families([wrong], mids, juniors, Rules(min_level_gap=1), composition=INTERN_AND_PGY2)
    assert result.unmatched["x"] == "PGY2 is not an eligible senior level for this cycle"
