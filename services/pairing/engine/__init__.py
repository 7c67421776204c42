"""The pairing engine: pure functions from people and rules to pairs, with reasons.

No I/O and no framework: the pairing service feeds it enrolled people and stores what it returns.
"""

from .explain import explain_unmatched
from .families import families
from .groups import groups
from .model import (
    DEFAULT_WEIGHTS,
    LEVEL_RANKS,
    SOFT_RULES,
    Composition,
    Family,
    Mentee,
    Mentor,
    Pair,
    Result,
    Rules,
    ScoreBreakdown,
    level_rank,
    level_refusal,
)
from .optimal import optimal
from .pins import PinError, Pool, keep_previous_pairs, respect_pins
from .randomized import random_pairing
from .rules import acceptable, score, violations
from .stable import count_blocking_pairs, preference_lists, stable

__all__ = [
    "DEFAULT_WEIGHTS",
    "LEVEL_RANKS",
    "SOFT_RULES",
    "Composition",
    "Family",
    "Mentee",
    "Mentor",
    "Pair",
    "PinError",
    "Pool",
    "Result",
    "Rules",
    "ScoreBreakdown",
    "acceptable",
    "count_blocking_pairs",
    "explain_unmatched",
    "families",
    "groups",
    "keep_previous_pairs",
    "level_rank",
    "level_refusal",
    "optimal",
    "preference_lists",
    "random_pairing",
    "respect_pins",
    "score",
    "stable",
    "violations",
]
