"""The shared vocabulary agrees with the rules that use it."""

from __future__ import annotations

from services.eventkit.contracts import vocabulary as v
from services.pairing import engine


def test_every_training_level_has_a_rank_on_the_years_scale() -> None:
    assert set(engine.LEVEL_RANKS) == set(v.TRAINING_LEVELS)


def test_every_algorithm_fits_exactly_one_pairing_format() -> None:
    assert set(v.FORMAT_ALGORITHMS) == set(v.PAIRING_FORMATS)
    fitted = [a for algorithms in v.FORMAT_ALGORITHMS.values() for a in algorithms]
    assert sorted(fitted) == sorted(v.ALGORITHMS)


def test_the_engine_scores_the_soft_rules_in_their_order_with_their_default_weights() -> None:
    assert tuple(rule.name for rule in v.SOFT_RULES) == engine.SOFT_RULES
    assert dict(engine.Rules().weights) == {r.name: r.default_weight for r in v.SOFT_RULES}
    assert all(rule.label and rule.hint for rule in v.SOFT_RULES)
