"""De-identified outcomes: pseudonymous export rows of a cycle, and what a program or an
institution adds up to over its cycles (consortium-wide outcomes)."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from .health import MIN_PEOPLE, share, suppressed_unless
from .relationships import Relationship


def pseudonym(key: str, kind: str, value: str) -> str:
    """A stable pseudonymous id: HMAC-SHA256 of the id under a secret key, shortened."""
    return hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:20]


EXPORT_COLUMNS = (
    "participant",
    "role",
    "relationship",
    "mentor",
    "meetings_logged",
    "meetings_confirmed",
    "minutes_met",
    "objectives_set",
    "objectives_done",
)


def export_rows(
    relationships: Sequence[Relationship],
    meetings: Sequence[dict[str, Any]],
    objectives: Sequence[dict[str, Any]],
    key: str,
) -> list[dict[str, Any]]:
    """De-identified outcome rows, one per member of each relationship: pseudonymous ids and
    counts only (no names, emails, dates or free text). Empty when the export would describe
    fewer than MIN_PEOPLE people."""
    people = {p for r in relationships for p in r.members}
    if len(people) < MIN_PEOPLE:
        return []
    rows = []
    for r in relationships:
        ms = [m for m in meetings if m["pair_id"] == r.id]
        mentor = r.mentors[0] if r.mentors else None
        for person_id, role in sorted(r.members.items()):
            objs = [o for o in objectives if o["pair_id"] == r.id and o["mentee_id"] == person_id]
            rows.append(
                {
                    "participant": pseudonym(key, "person", person_id),
                    "role": role,
                    "relationship": pseudonym(key, r.kind, r.id),
                    "mentor": pseudonym(key, "person", mentor) if mentor else "",
                    "meetings_logged": len(ms),
                    "meetings_confirmed": sum(1 for m in ms if m["confirmed"]),
                    "minutes_met": sum(m["duration_minutes"] for m in ms),
                    "objectives_set": len(objs),
                    "objectives_done": sum(1 for o in objs if o["status"] == "done"),
                }
            )
    return sorted(rows, key=lambda row: (row["relationship"], row["participant"]))


@dataclasses.dataclass
class Tally:
    """What one program (or one institution) adds up to over its cycles."""

    cycles: set[str] = dataclasses.field(default_factory=set)
    relationships: list[Relationship] = dataclasses.field(default_factory=list)
    meetings: dict[str, list[dict]] = dataclasses.field(default_factory=dict)  # by relationship
    issued: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # (instance, person)
    responded: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    likert: dict[str, list[int]] = dataclasses.field(default_factory=dict)  # by person

    def add(self, other: Tally) -> None:
        self.cycles |= other.cycles
        self.relationships += other.relationships
        self.meetings.update(other.meetings)
        self.issued |= other.issued
        self.responded |= other.responded
        for person, values in other.likert.items():
            self.likert.setdefault(person, []).extend(values)

    def outcome(self) -> dict:
        members = {p for r in self.relationships for p in r.members}
        counts = [len(self.meetings.get(r.id, [])) for r in self.relationships]
        held = [m for r in self.relationships for m in self.meetings.get(r.id, [])]

        answers = [v for values in self.likert.values() for v in values]
        return {
            "cycles": len(self.cycles),
            "pairs": suppressed_unless(
                members,
                {
                    "pairs": sum(1 for r in self.relationships if r.kind == "pair"),
                    "groups": sum(1 for r in self.relationships if r.kind == "group"),
                    "families": sum(1 for r in self.relationships if r.kind == "family"),
                },
            ),
            "meetings": suppressed_unless(
                members,
                {
                    "meetings": len(held),
                    "per_pair_mean": round(len(held) / len(counts), 2) if counts else None,
                    "confirmed_share": share(sum(1 for m in held if m["confirmed"]), len(held)),
                    "pairs_without_meeting_share": share(
                        sum(1 for c in counts if c == 0), len(counts)
                    ),
                },
            ),
            "surveys": suppressed_unless(
                {person for _, person in self.issued},
                {
                    "issued": len(self.issued),
                    "responded": len(self.responded),
                    "rate": share(len(self.responded), len(self.issued)),
                },
            ),
            "likert": suppressed_unless(
                set(self.likert),
                {
                    "answers": len(answers),
                    "mean": round(sum(answers) / len(answers), 2) if answers else None,
                },
            ),
        }
