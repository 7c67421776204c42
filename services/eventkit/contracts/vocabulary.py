"""The words services and the web share: program types, training levels, pairing formats, the
pairing algorithms that fit each format, and the soft rules that score a pair.

Plain values, no I/O. Enrollment validates against them, pairing's engine scores with them, and
the web shows their labels, so each is defined once, here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from types import MappingProxyType


@dataclasses.dataclass(frozen=True)
class Term:
    name: str
    label: str
    hint: str = ""


PROGRAM_TYPE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "resident_peer_mentoring": "Resident peer mentoring",
        "faculty_mentoring": "Faculty mentoring",
        "student_career_coaching": "Student career coaching",
        "mentoring_families": "Mentoring families",
        "big_sibling": "Big sibling",
    }
)
PROGRAM_TYPES = tuple(PROGRAM_TYPE_LABELS)

TRAINING_LEVELS = (
    "MS1", "MS2", "MS3", "MS4", "MS5", "MS6",
    "PGY1", "PGY2", "PGY3", "PGY4", "PGY5", "PGY6", "PGY7",
    "research_resident", "fellow", "faculty",
)  # fmt: skip

FORMAT_LABELS: Mapping[str, str] = MappingProxyType(
    {"one_to_one": "One to one", "group": "Group coaching", "family": "Mentoring family"}
)
PAIRING_FORMATS = tuple(FORMAT_LABELS)

ALGORITHM_TERMS: Mapping[str, Term] = MappingProxyType(
    {
        a.name: a
        for a in (
            Term(
                "stable",
                "Stable matching",
                "No mentee and mentor would both rather be with each other than with whom they "
                "got; the best such result for every mentee.",
            ),
            Term(
                "optimal",
                "Highest total score",
                "The pairs whose scores add up to the most, within mentors' capacities.",
            ),
            Term(
                "random",
                "Random (lottery)",
                "Each mentee gets a random mentor the hard rules allow. The same seed gives the "
                "same pairs.",
            ),
            Term(
                "groups",
                "Coaching groups",
                "Each coach leads one group, groups as even in size as the rules allow, then the "
                "best total score.",
            ),
            Term(
                "families",
                "Mentoring families",
                "A senior and a mid-level resident (PGY3 or research) with juniors who are "
                "acceptable to both.",
            ),
        )
    }
)

ALGORITHMS = tuple(ALGORITHM_TERMS)

# Which algorithms fit which pairing format of a cycle; pairing refuses the others.
FORMAT_ALGORITHMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "one_to_one": ("stable", "optimal", "random"),
        "group": ("groups",),
        "family": ("families",),
    }
)


@dataclasses.dataclass(frozen=True)
class SoftRule:
    """A rule that scores a pair from 0 to 1; the score counts `default_weight` times unless a
    coordinator sets another weight for a run."""

    name: str
    label: str
    hint: str
    default_weight: float


# In the order the engine reports each pair's score, rule by rule.
SOFT_RULES = (
    SoftRule(
        "specialty_interests",
        "Shared specialty interests",
        "How much the two lists of interests overlap (shared interests out of all listed).",
        3.0,
    ),
    SoftRule(
        "goals",
        "Mentee goals the mentor covers",
        "The share of words in the mentee's goals found among the mentor's interests.",
        2.0,
    ),
    SoftRule(
        "language",
        "Shared language",
        "Full marks when they share at least one language.",
        1.0,
    ),
    SoftRule(
        "meeting_mode",
        "Meeting mode",
        "Full marks when both want to meet the same way (in person or virtually), or either "
        "is flexible.",
        1.0,
    ),
    SoftRule(
        "ranked_interest",
        "Mentee's ranking of the mentor",
        "1 for the mentee's first choice, 0.1 less for each place below; 0 if not ranked.",
        4.0,
    ),
    SoftRule(
        "identity",
        "Shared identity (consented)",
        "Full marks when the mentor shares every identity item the mentee consented to match on.",
        1.5,
    ),
    SoftRule(
        "availability",
        "Overlapping availability",
        "The share of time slots both have free.",
        1.0,
    ),
)
SOFT_RULE_NAMES = tuple(rule.name for rule in SOFT_RULES)
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {rule.name: rule.default_weight for rule in SOFT_RULES}
)
