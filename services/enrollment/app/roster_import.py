"""Roster import: the file is checked whole (parsing is pure, in domain.roster_file), then the
rows are checked against the directory and applied atomically and idempotently (by email)."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import sqlalchemy as sa

from services.eventkit import DomainError, Metadata
from services.eventkit.envelope import new_id
from services.eventkit.unit_of_work import UnitOfWork

from ..domain.directory import Program
from ..domain.enrollment import Enrollment
from ..domain.person import Person
from ..domain.roster_file import ParsedRoster, RosterRefused, parse_roster
from ..domain.roster_rows import RosterRow
from ..readmodels import lookups
from . import roster_conflicts


class RosterRejected(Exception):
    """The file or some rows are invalid: nothing was written."""

    def __init__(self, message: str, rows: list[dict]) -> None:
        super().__init__(message)
        self.message = message
        self.rows = rows


def _whole_file(message: str) -> RosterRejected:
    return RosterRejected(message, [{"line": 1, "column": None, "message": message}])


def _problems(rows: list[dict]) -> RosterRejected:
    return RosterRejected(f"{len(rows)} problem(s) in the file; nothing was imported.", rows)


def validate(data: bytes, max_bytes: int) -> ParsedRoster:
    """The file's rows, or RosterRejected with every problem in it."""
    try:
        parsed = parse_roster(data, max_bytes=max_bytes)
    except RosterRefused as exc:
        raise _whole_file(str(exc)) from None
    if not parsed.ok:
        raise _problems(
            [{"line": e.line, "column": e.column, "message": e.message} for e in parsed.errors]
        )
    return parsed


def apply(
    uow: UnitOfWork, cycle: sa.RowMapping, rows: tuple[RosterRow, ...], data: bytes, meta: Metadata
) -> dict[str, int]:
    """Register, update and enroll the rows' people in the open cycle, all or nothing; returns
    the counts. Importing the same file again changes nothing."""
    program = uow.load(Program, cycle["program_id"])
    try:
        program.check_open(cycle["id"])
    except DomainError as exc:
        raise _whole_file(exc.message) from None
    people = lookups.people_by_email(uow.conn, [r.email for r in rows])
    problems = [
        {"line": r.line, "column": "email",
         "message": "This email belongs to someone at another institution."}
        for r in rows
        if r.email in people
        and people[r.email].institution_id != cycle["institution_id"]
        and not cycle["cross_institution"]
    ]  # fmt: skip
    problems += roster_conflicts.unknown_people(uow.conn, rows)
    if problems:
        raise _problems(problems)
    enrolled_ids = lookups.cycle_enrollments(uow.conn, cycle["id"], [p.id for p in people.values()])
    changed: list = []
    person_by_email: dict[str, Person] = {}
    enrollment_by_email: dict[str, Enrollment] = {}
    reused: set[str] = set()
    counts = {"rows": len(rows), "people_registered": 0, "enrolled": 0, "updated": 0,
              "unchanged": 0}  # fmt: skip
    for r in rows:
        existing = people.get(r.email)
        if existing is None:
            person = Person(new_id())
            person.register(
                cycle["institution_id"], r.name, r.email, r.training_level, r.specialty, r.pronouns
            )
            counts["people_registered"] += 1
        else:
            person = uow.load(Person, existing.id)
            person.update(
                name=r.name,
                training_level=r.training_level,
                specialty=r.specialty,
                pronouns=r.pronouns,
            )
        enrollment_id = enrolled_ids.get((person.id, r.role))
        if enrollment_id is None:
            enrollment = Enrollment(new_id())
            enrollment.enroll(program, cycle["id"], person, r.role, _profile(r))
            counts["enrolled"] += 1
        else:
            enrollment = uow.load(Enrollment, enrollment_id)
            if not enrollment.active:
                enrollment.reenroll(program)
            enrollment.update_profile(_profile(r))
            reused.add(r.email)
        person_by_email[r.email], enrollment_by_email[r.email] = person, enrollment
    roster_conflicts.declare(uow, rows, person_by_email, enrollment_by_email)
    for r in rows:
        person, enrollment = person_by_email[r.email], enrollment_by_email[r.email]
        if r.email in reused:  # counted once its conflicts are declared too
            same = r.email in people and not person.pending and not enrollment.pending
            counts["unchanged" if same else "updated"] += 1
        changed.extend(a for a in (person, enrollment) if a.pending)
    if changed:
        in_cycle = dataclasses.replace(meta, institution_id=cycle["institution_id"])
        uow.save_all(changed, in_cycle)
        program.record(
            "RosterImported", cycle_id=cycle["id"], program_id=program.id,
            file_sha256=hashlib.sha256(data).hexdigest(), **counts,
        )  # fmt: skip
        uow.save(program, in_cycle)
    return counts


def _profile(r: RosterRow) -> dict[str, Any]:
    return {
        "interests": list(r.interests), "goals": r.goals, "languages": list(r.languages),
        "meeting_mode": r.meeting_mode, "capacity": r.capacity,
    }  # fmt: skip
