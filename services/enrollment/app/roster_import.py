"""Roster import: the file is checked whole (parsing is pure, in domain.roster_file), then planned
against the directory (domain.roster_plan) and shown to the coordinator; the plan is applied
atomically only when confirmed, and only if the directory has not changed since."""

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
from ..domain.invitation import Invitation
from ..domain.person import Person
from ..domain.roster_file import ParsedRoster, RosterRefused, parse_roster
from ..domain.roster_plan import (
    NEW,
    OTHER_INSTITUTION,
    PERSON_COLUMNS,
    PROFILE_COLUMNS,
    Known,
    KnownEnrollment,
    PlannedRow,
    RosterPlan,
    plan,
    profile_of,
)
from ..domain.roster_rows import RosterRow
from ..readmodels import lookups
from . import roster_conflicts

ELSEWHERE = "This email belongs to someone at another institution."


class RosterRejected(Exception):
    """The file or some rows are invalid: nothing was written."""

    def __init__(self, message: str, rows: list[dict]) -> None:
        super().__init__(message)
        self.message = message
        self.rows = rows


class PlanChanged(Exception):
    """The directory changed since the coordinator saw the preview: `plan` is what would be done
    now, to be shown again."""

    def __init__(self, plan: RosterPlan) -> None:
        super().__init__("The directory changed since the preview.")
        self.plan = plan


def _whole_file(message: str) -> RosterRejected:
    return RosterRejected(message, [{"line": 1, "column": None, "message": message}])


def _problems(rows: list[dict]) -> RosterRejected:
    return RosterRejected(f"{len(rows)} problem(s) in the file; nothing was imported.", rows)


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


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


def preview(
    conn: sa.Connection, cycle: sa.RowMapping, rows: tuple[RosterRow, ...], data: bytes
) -> RosterPlan:
    """What importing the rows into the cycle would change, person by person; RosterRejected if
    a row declares a conflict with someone unknown."""
    problems = roster_conflicts.unknown_people(conn, rows)
    if problems:
        raise _problems(problems)
    found = lookups.people_by_email(conn, [r.email for r in rows])
    people = {
        email: Known(p.id, p.institution_id, p.email, {k: getattr(p, k) for k in PERSON_COLUMNS})
        for email, p in found.items()
    }
    enrolled = lookups.cycle_enrollments(conn, cycle["id"], [p.id for p in people.values()])
    declared = lookups.declared_conflicts(conn, [e.id for e in enrolled.values()])
    enrollments = {
        key: KnownEnrollment(e.id, e.status == "active", _profile_read(e), declared.get(e.id, {}))
        for key, e in enrolled.items()
    }
    return plan(
        file_sha256(data),
        rows,
        people,
        enrollments,
        cycle["institution_id"],
        bool(cycle["cross_institution"]),
    )


def _profile_read(e: sa.Row) -> dict[str, Any]:
    profile = {k: getattr(e, k) for k in PROFILE_COLUMNS}
    profile["languages"] = profile["languages"] or []
    profile["interests"] = profile["interests"] or []
    return profile


def apply(
    uow: UnitOfWork,
    cycle: sa.RowMapping,
    rows: tuple[RosterRow, ...],
    data: bytes,
    meta: Metadata,
    confirmed: str | None = None,
    invitation: Invitation | None = None,
) -> dict[str, int]:
    """Register, update and enroll the rows' people in the open cycle, all or nothing, leaving
    out people of another institution; returns the counts. `confirmed` is the fingerprint of the
    plan the coordinator saw: if the plan is no longer the same, PlanChanged and nothing is
    written; without it, a person of another institution refuses the whole file. Importing the
    same file again changes nothing. People newly enrolled are invited as `invitation` says (else
    at once)."""
    program = uow.load(Program, cycle["program_id"])
    try:
        program.check_open(cycle["id"])
    except DomainError as exc:
        raise _whole_file(exc.message) from None
    planned = preview(uow.conn, cycle, rows, data)
    if confirmed is None:
        # Imported unseen: a person of another institution refuses the file rather than being
        # left out without anyone having been told.
        elsewhere = [r for r in planned.rows if r.status == OTHER_INSTITUTION]
        if elsewhere:
            raise _problems([{"line": r.line, "column": "email", "message": ELSEWHERE}
                             for r in elsewhere])  # fmt: skip
    elif planned.fingerprint != confirmed:
        raise PlanChanged(planned)
    applied: list[RosterRow] = []
    person_by_email: dict[str, Person] = {}
    enrollment_by_email: dict[str, Enrollment] = {}
    for r, step in zip(rows, planned.rows, strict=True):
        if step.status != OTHER_INSTITUTION:
            applied.append(r)
            person_by_email[r.email], enrollment_by_email[r.email] = _apply_row(
                uow, program, cycle, r, step, invitation
            )
    roster_conflicts.declare(uow, tuple(applied), person_by_email, enrollment_by_email)
    changed = [
        a
        for r in applied
        for a in (person_by_email[r.email], enrollment_by_email[r.email])
        if a.pending
    ]
    counts = planned.counts()
    if changed:
        in_cycle = dataclasses.replace(meta, institution_id=cycle["institution_id"])
        uow.save_all(changed, in_cycle)
        program.record(
            "RosterImported", cycle_id=cycle["id"], program_id=program.id,
            file_sha256=planned.file_sha256, rows=counts["rows"],
            people_registered=counts["people_registered"], enrolled=counts["enrolled"],
            updated=counts["updated"], unchanged=counts["unchanged"],
        )  # fmt: skip
        uow.save(program, in_cycle)
    return counts


def _apply_row(
    uow: UnitOfWork,
    program: Program,
    cycle: sa.RowMapping,
    r: RosterRow,
    step: PlannedRow,
    invitation: Invitation | None,
) -> tuple[Person, Enrollment]:
    """The row's person and enrollment, with the events the row adds pending."""
    if step.status == NEW:
        person = Person(new_id())
        person.register(
            cycle["institution_id"], r.name, r.email, r.training_level, r.specialty, r.pronouns
        )
    else:
        assert step.person_id is not None
        person = uow.load(Person, step.person_id)
        person.update(
            name=r.name, training_level=r.training_level, specialty=r.specialty,
            pronouns=r.pronouns,
        )  # fmt: skip
    if step.enrollment_id is None:
        enrollment = Enrollment(new_id())
        enrollment.enroll(
            program, cycle["id"], person, r.role, profile_of(r), invitation=invitation
        )
    else:
        enrollment = uow.load(Enrollment, step.enrollment_id)
        if not enrollment.active:
            enrollment.reenroll(program)
        enrollment.update_profile(profile_of(r))
    return person, enrollment
