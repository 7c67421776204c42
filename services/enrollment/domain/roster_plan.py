"""What importing a roster would change, person by person, before anything is applied: who is new,
which fields change (old -> new), who is unchanged, whose email matches an existing person only
by letter case, and who belongs to another institution (left out). Pure: the caller reads the
directory and hands it in.

The plan's fingerprint covers everything it would do, so applying it later can tell whether the
directory changed in between.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from .profile import clean_profile
from .roster_rows import RosterRow

NEW, UPDATED, UNCHANGED, OTHER_INSTITUTION = "new", "updated", "unchanged", "other_institution"
STATUSES = (NEW, UPDATED, UNCHANGED, OTHER_INSTITUTION)

PERSON_COLUMNS = ("name", "training_level", "specialty", "pronouns")
PROFILE_COLUMNS = ("interests", "goals", "languages", "meeting_mode", "capacity")


@dataclass(frozen=True)
class Known:
    """An existing person as the directory holds them."""

    id: str
    institution_id: str
    email: str
    fields: dict[str, str]  # PERSON_COLUMNS


@dataclass(frozen=True)
class KnownEnrollment:
    id: str
    active: bool
    profile: dict[str, Any]  # PROFILE_COLUMNS
    conflicts: dict[str, str] = field(default_factory=dict)  # other person's email -> kind


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class PlannedRow:
    line: int
    email: str
    email_as_written: str
    name: str
    role: str
    status: str
    person_id: str | None = None
    directory_email: str = ""  # the existing person's email, when one matched
    enrollment_id: str | None = None
    enrolls: bool = False  # a new enrollment in this cycle
    reenrolls: bool = False  # a withdrawn enrollment made active again
    changes: tuple[Change, ...] = ()

    @property
    def case_only_match(self) -> bool:
        """The file spells an existing person's email with other letter case."""
        return bool(self.directory_email) and self.email_as_written != self.directory_email

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["changes"] = [asdict(c) for c in self.changes]
        out["case_only_match"] = self.case_only_match
        return out


@dataclass(frozen=True)
class RosterPlan:
    file_sha256: str
    rows: tuple[PlannedRow, ...] = field(default_factory=tuple)

    def counts(self) -> dict[str, int]:
        by_status = {s: sum(r.status == s for r in self.rows) for s in STATUSES}
        return {
            "rows": len(self.rows),
            "people_registered": by_status[NEW],
            "enrolled": sum(r.enrolls for r in self.rows),
            "updated": by_status[UPDATED],
            "unchanged": by_status[UNCHANGED],
            "other_institution": by_status[OTHER_INSTITUTION],
            "case_only_matches": sum(r.case_only_match for r in self.rows),
        }

    @property
    def fingerprint(self) -> str:
        """SHA-256 over the file and everything the plan would do."""
        body = json.dumps(
            [self.file_sha256, [r.as_dict() for r in self.rows]], sort_keys=True, default=str
        )
        return hashlib.sha256(body.encode()).hexdigest()


def plan(
    file_sha256: str,
    rows: tuple[RosterRow, ...],
    people: dict[str, Known],
    enrollments: dict[tuple[str, str], KnownEnrollment],
    institution_id: str,
    cross_institution: bool,
) -> RosterPlan:
    """`people` by lower-cased email; `enrollments` by (person id, role) in the cycle."""
    return RosterPlan(
        file_sha256,
        tuple(
            _row(r, people.get(r.email.lower()), enrollments, institution_id, cross_institution)
            for r in rows
        ),
    )


def _row(
    r: RosterRow,
    known: Known | None,
    enrollments: dict[tuple[str, str], KnownEnrollment],
    institution_id: str,
    cross_institution: bool,
) -> PlannedRow:
    base = {
        "line": r.line,
        "email": r.email,
        "email_as_written": r.email_as_written or r.email,
        "name": r.name,
        "role": r.role,
    }
    if known is None:
        return PlannedRow(**base, status=NEW, enrolls=True, changes=_conflicts(r, {}))
    if known.institution_id != institution_id and not cross_institution:
        return PlannedRow(**base, status=OTHER_INSTITUTION)  # nothing of theirs is shown
    matched = {**base, "person_id": known.id, "directory_email": known.email}
    wanted = {"name": r.name, "training_level": r.training_level, "specialty": r.specialty,
              "pronouns": r.pronouns}  # fmt: skip
    changes = [
        Change(k, known.fields.get(k, ""), v)
        for k, v in wanted.items()
        if known.fields.get(k, "") != v
    ]
    enrollment = enrollments.get((known.id, r.role))
    if enrollment is None:
        changes += _conflicts(r, {})
        return PlannedRow(**matched, status=UPDATED, enrolls=True, changes=tuple(changes))
    profile = clean_profile(r.role, profile_of(r))
    changes += [
        Change(k, enrollment.profile.get(k), v)
        for k, v in profile.items()
        if _normal(enrollment.profile.get(k)) != _normal(v)
    ]
    changes += _conflicts(r, enrollment.conflicts)
    status = UPDATED if changes or not enrollment.active else UNCHANGED
    return PlannedRow(
        **matched,
        status=status,
        enrollment_id=enrollment.id,
        reenrolls=not enrollment.active,
        changes=tuple(changes),
    )


def _conflicts(r: RosterRow, declared: dict[str, str]) -> list[Change]:
    """The row's conflicts of interest, if it declares any not declared yet (those declared and
    left out of the file stay)."""
    after = {**declared, **{email: kind for kind, email in r.conflicts}}
    if after == declared:
        return []
    return [Change("conflicts", _listed(declared), _listed(after))]


def _listed(conflicts: dict[str, str]) -> list[str]:
    return [f"{kind}:{email}" for email, kind in sorted(conflicts.items())]


def profile_of(r: RosterRow) -> dict[str, Any]:
    """The matching profile a roster row sets."""
    return {
        "interests": list(r.interests), "goals": r.goals, "languages": list(r.languages),
        "meeting_mode": r.meeting_mode, "capacity": r.capacity,
    }  # fmt: skip


def _normal(value: Any) -> Any:
    # Lists come back from JSON columns as lists and from rows as tuples; None is an empty list.
    if isinstance(value, tuple | list):
        return list(value)
    return value
