"""Conflicts of interest: someone a participant must never be paired with (their supervisor, an
assessor, ...). A mentee declares them against the cycle's mentors on their profile; a coordinator
does the same on the participant's page, on their behalf. The enrollment service keeps them and
the pairing honours them from its events."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

from flask import flash

from ..calls import call, fetch_or, seg
from .me.participation import refused

# The enrollment service's kinds, in the words the forms use.
CONFLICT_LABELS = {
    "supervisor": "My supervisor",
    "assessor": "Assesses me",
    "line_manager": "My line manager",
    "personal": "Other (personal)",
}
STAFF_CONFLICT_LABELS = {
    "supervisor": "Supervisor",
    "assessor": "Assessor",
    "line_manager": "Line manager",
    "personal": "Other (personal)",
}


@dataclasses.dataclass(frozen=True)
class Conflict:
    other_person_id: str
    name: str
    kind: str


def conflicts_of(enrollment_id: str, names: Mapping[str, str]) -> list[Conflict]:
    """The enrollment's declared conflicts, named from `names` (person id -> name)."""
    found = fetch_or("enrollment", f"/api/enrollments/{seg(enrollment_id)}/conflicts", [])
    conflicts = [
        Conflict(c["other_person_id"], names.get(c["other_person_id"], "Someone"), c["kind"])
        for c in found
    ]
    return sorted(conflicts, key=lambda c: c.name)


def mentor_choices(cycle_id: str, person_id: str, declared: Iterable[Conflict]) -> list[dict]:
    """The cycle's active mentors a conflict can still be declared against (not the person)."""
    taken = {c.other_person_id for c in declared} | {person_id}
    mentors = fetch_or("enrollment", f"/api/cycles/{seg(cycle_id)}/mentors", [])
    return [m for m in mentors if m["person_id"] not in taken]


def declare(enrollment_id: str, other_person_id: str, kind: str, name: str) -> dict[str, str]:
    """Declare the conflict; the refusal's messages per field ({} when it is kept)."""
    if not other_person_id:
        return {"other_person_id": "Choose the mentor."}
    reply = call(
        "enrollment",
        "POST",
        f"/api/enrollments/{seg(enrollment_id)}/conflicts",
        json={"other_person_id": other_person_id, "kind": kind},
    )
    if reply.ok:
        flash(f"A conflict of interest with {name} is recorded: pairing will never pair them.")
        return {}
    return refused(reply)


def remove(enrollment_id: str, other_person_id: str, name: str) -> dict[str, str]:
    path = f"/api/enrollments/{seg(enrollment_id)}/conflicts/{seg(other_person_id)}"
    reply = call("enrollment", "DELETE", path)
    if reply.ok:
        flash(f"The conflict of interest with {name} is removed.")
        return {}
    return refused(reply)
