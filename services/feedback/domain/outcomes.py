"""De-identified outcomes: pseudonymous export rows of a cycle."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from .health import MIN_PEOPLE
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
