"""What people meet in: a pair, a coaching group or a mentoring family, as the aggregates' rules
see it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

from services.eventkit.aggregate import DomainError


@dataclasses.dataclass(frozen=True)
class Relationship:
    id: str
    cycle_id: str
    kind: str  # pair | group | family
    members: dict[str, str]  # person id -> mentor | mentee
    active: bool
    started_on: dt.date
    # What each member is in a group or family: coach | member, or senior | mid | junior.
    titles: dict[str, str] = dataclasses.field(default_factory=dict)

    def role_of(self, person_id: str) -> str | None:
        return self.members.get(person_id)

    @property
    def mentees(self) -> list[str]:
        return sorted(p for p, r in self.members.items() if r == "mentee")

    @property
    def mentors(self) -> list[str]:
        return sorted(p for p, r in self.members.items() if r == "mentor")


def clean_texts(values: Iterable[str]) -> list[str]:
    return [v.strip() for v in values if v and v.strip()]


def parse_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DomainError("Give a date as YYYY-MM-DD.", field) from None
