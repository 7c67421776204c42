"""The people, rules and results the pairing engine works with: plain immutable values, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Literal

from services.eventkit.contracts.vocabulary import DEFAULT_WEIGHTS
from services.eventkit.contracts.vocabulary import SOFT_RULE_NAMES as SOFT_RULES

MeetingMode = Literal["in_person", "virtual", "either"]

# Training years on one scale, so the level-gap rule is a subtraction. A research resident sits
# with PGY4; fellows and faculty sit above every resident.
LEVEL_RANKS: Mapping[str, int] = MappingProxyType(
    {
        **{f"MS{n}": n for n in range(1, 7)},
        **{f"PGY{n}": 6 + n for n in range(1, 8)},
        "research_resident": 10,
        "fellow": 14,
        "faculty": 20,
    }
)

# Rankings beyond this many places earn the floor of the ranked-interest similarity.
MAX_RANKED = 10


def level_rank(training_level: str) -> int:
    """The rank of a training level such as "PGY3" or "research_resident" on the years scale."""
    try:
        return LEVEL_RANKS[training_level]
    except KeyError:
        raise ValueError(f"unknown training level {training_level!r}") from None


@dataclass(frozen=True)
class Mentee:
    id: str  # the person's id, also what conflicts refer to
    institution_id: str
    level_rank: int
    interests: frozenset[str] = frozenset()
    goals_keywords: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    meeting_mode: MeetingMode = "either"
    availability: frozenset[str] = frozenset()
    ranking: tuple[str, ...] = ()  # mentor ids, best first
    identity: Mapping[str, str] | None = None
    identity_preferences: Mapping[str, str] | None = None  # consented wishes, e.g. gender
    conflicts: frozenset[str] = frozenset()  # person ids never to pair with
    withdrawn: bool = False
    training_level: str = ""  # e.g. "PGY1", for a cycle's eligible levels


@dataclass(frozen=True)
class Mentor:
    id: str
    institution_id: str
    level_rank: int
    interests: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    meeting_mode: MeetingMode = "either"
    availability: frozenset[str] = frozenset()
    capacity: int = 1
    ranking: tuple[str, ...] = ()  # mentee ids the mentor prefers, best first; may be empty
    identity: Mapping[str, str] | None = None
    conflicts: frozenset[str] = frozenset()
    withdrawn: bool = False
    training_level: str = ""


@dataclass(frozen=True)
class Rules:
    min_level_gap: int = 2
    cross_institution: bool = False
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    # The training levels that may take each role in the cycle; None: any level (the gap applies
    # either way). A person's own level decides, so runs check it once per person, not per pair.
    mentee_levels: frozenset[str] | None = None
    mentor_levels: frozenset[str] | None = None

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(SOFT_RULES)
        if unknown:
            raise ValueError(f"unknown soft rules in weights: {sorted(unknown)}")
        # A partial mapping overrides the defaults rule by rule.
        merged = {**DEFAULT_WEIGHTS, **self.weights}
        object.__setattr__(self, "weights", MappingProxyType(merged))
        object.__setattr__(self, "_vector", tuple(float(merged[name]) for name in SOFT_RULES))

    def weight_vector(self) -> tuple[float, ...]:
        """The weights in SOFT_RULES order."""
        return self._vector  # type: ignore[attr-defined]

    def level_refusal(self, person: Mentee | Mentor) -> str | None:
        """Why the person's training level may not take their role in this cycle, or None."""
        if isinstance(person, Mentee):
            allowed, role = self.mentee_levels, "mentee"
        else:
            allowed, role = self.mentor_levels, "mentor"
        if allowed is None or person.training_level in allowed:
            return None
        return level_refusal(person.training_level, role)


def level_refusal(training_level: str, role: str) -> str:
    """The reason, in a coordinator's words, that a level may not take a role."""
    return f"{training_level or 'No training level'} is not an eligible {role} level for this cycle"


@dataclass(frozen=True)
class Composition:
    """Who makes up a mentoring family: the senior's and the mid-level's levels, and the junior
    slots, each with its levels and how many juniors of them a family takes."""

    senior_levels: frozenset[str]
    mid_levels: frozenset[str]
    junior_slots: tuple[tuple[frozenset[str], int], ...]

    @property
    def per_family(self) -> int:
        return sum(count for _, count in self.junior_slots)


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    total: float
    parts: tuple[float, ...]  # weight x similarity, in SOFT_RULES order

    @property
    def by_rule(self) -> dict[str, float]:
        """Rule name -> weight x similarity: what each soft rule added to the total."""
        return dict(zip(SOFT_RULES, self.parts, strict=True))


@dataclass(frozen=True, slots=True)
class Pair:
    mentee_id: str
    mentor_id: str
    score: ScoreBreakdown
    pinned: bool = False


# Bulk construction. A frozen dataclass's __init__ sets each field through object.__setattr__,
# which costs more than scoring a pair when a run builds thousands of them. The engine's bulk
# paths make the same objects (equal, same hash and repr) with `object.__new__(cls)` and these
# slot setters, one per field in declaration order; unpacking them checks none is missed.
SCORE_BREAKDOWN_SETTERS = tuple(
    vars(ScoreBreakdown)[f.name].__set__ for f in fields(ScoreBreakdown)
)
PAIR_SETTERS = tuple(vars(Pair)[f.name].__set__ for f in fields(Pair))


@dataclass(frozen=True)
class Family:
    senior_id: str
    mid_id: str
    junior_ids: tuple[str, ...]
    total_score: float


@dataclass
class Result:
    pairs: list[Pair]
    # person id -> why they got nobody: mentees, and mentors left with no mentee at all
    unmatched: dict[str, str]
    blocking_pairs: int | None = None  # stable runs only
    families: list[Family] = field(default_factory=list)  # family runs only

    @property
    def total_score(self) -> float:
        return sum(p.score.total for p in self.pairs)

    def pair_ids(self) -> set[tuple[str, str]]:
        return {(p.mentee_id, p.mentor_id) for p in self.pairs}
