"""Enrollments: joining a cycle, the matching profile, ranking, conflicts, guidelines,
withdrawal and re-enrollment."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from services.eventkit import DomainError, Metadata
from services.eventkit.db import one
from services.eventkit.envelope import new_id
from services.eventkit.unit_of_work import UnitOfWork

from ..domain.directory import Program
from ..domain.enrollment import Enrollment
from ..domain.invitation import Invitation
from ..domain.person import Person
from ..readmodels import lookups
from ..readmodels.tables import cycles


def enroll(
    uow: UnitOfWork,
    cycle_id: str,
    person_id: str,
    role: str,
    profile: dict[str, Any],
    accept_guidelines: bool,
    meta: Metadata,
    invitation: Invitation | None = None,
) -> str:
    """Enroll a person as mentor or mentee (once per cycle and role), invited as `invitation`
    says (else at once); returns the enrollment's id."""
    cycle = one(uow.conn, cycles, "cycle", id=cycle_id)
    existing = lookups.enrollment_as(uow.conn, cycle_id, person_id, role)
    if existing and existing.status == "active":
        raise DomainError(f"This person is already a {role} in this cycle.", "person_id")
    if existing:
        raise DomainError(
            "This person withdrew from this cycle; re-enroll them instead.", "person_id"
        )
    program = uow.load(Program, cycle["program_id"])
    person = uow.load(Person, person_id)
    enrollment = Enrollment(new_id())
    enrollment.enroll(program, cycle_id, person, role, profile, accept_guidelines, invitation)
    uow.save(enrollment, dataclasses.replace(meta, institution_id=cycle["institution_id"]))
    return enrollment.id


def _change(
    uow: UnitOfWork, enrollment_id: str, meta: Metadata, change: Callable[[Enrollment], None]
) -> None:
    """Load the enrollment (404 if unknown), apply `change`, save it in its cycle's institution."""
    institution_id = lookups.enrollment_view(uow.conn, enrollment_id)["institution_id"]
    enrollment = uow.load(Enrollment, enrollment_id)
    change(enrollment)
    uow.save(enrollment, dataclasses.replace(meta, institution_id=institution_id))


def update_profile(
    uow: UnitOfWork, enrollment_id: str, profile: dict[str, Any], meta: Metadata
) -> None:
    _change(uow, enrollment_id, meta, lambda e: e.update_profile(profile))


def rank_mentors(
    uow: UnitOfWork, enrollment_id: str, mentor_enrollment_ids: list[str], meta: Metadata
) -> None:
    """A mentee's mentors in order of interest, best first (replaces the earlier ranking)."""
    _change(
        uow, enrollment_id, meta,
        lambda e: e.rank([uow.load(Enrollment, m) for m in mentor_enrollment_ids]),
    )  # fmt: skip


def rank_mentees(
    uow: UnitOfWork,
    enrollment_id: str,
    mentee_enrollment_ids: list[str],
    not_acceptable_enrollment_ids: list[str],
    meta: Metadata,
) -> None:
    """A mentor's mentees in order of preference, best first, and those they would not accept
    (replaces the earlier ranking)."""
    _change(
        uow, enrollment_id, meta,
        lambda e: e.rank_mentees(
            [uow.load(Enrollment, m) for m in mentee_enrollment_ids],
            [uow.load(Enrollment, m) for m in not_acceptable_enrollment_ids],
        ),
    )  # fmt: skip


def declare_conflict(
    uow: UnitOfWork, enrollment_id: str, other_person_id: str, kind: str, meta: Metadata
) -> None:
    """Someone this participant must never be paired with (supervisor, assessor, …)."""
    _change(
        uow, enrollment_id, meta,
        lambda e: e.declare_conflict(uow.load(Person, other_person_id), kind),
    )  # fmt: skip


def remove_conflict(
    uow: UnitOfWork, enrollment_id: str, other_person_id: str, meta: Metadata
) -> None:
    _change(uow, enrollment_id, meta, lambda e: e.remove_conflict(other_person_id))


def accept_guidelines(uow: UnitOfWork, enrollment_id: str, meta: Metadata) -> None:
    _change(
        uow, enrollment_id, meta,
        lambda e: e.accept_guidelines(uow.load(Program, e.program_id)),
    )  # fmt: skip


def withdraw(uow: UnitOfWork, enrollment_id: str, reason: str, meta: Metadata) -> None:
    _change(uow, enrollment_id, meta, lambda e: e.withdraw(reason))


def reenroll(uow: UnitOfWork, enrollment_id: str, meta: Metadata) -> None:
    _change(uow, enrollment_id, meta, lambda e: e.reenroll(uow.load(Program, e.program_id)))


def schedule_invitations(
    uow: UnitOfWork,
    cycle_id: str,
    enrollment_ids: list[str],
    invitation: Invitation,
    meta: Metadata,
) -> int:
    """Choose again when these active participants of the cycle are invited; returns how many."""
    cycle = one(uow.conn, cycles, "cycle", id=cycle_id)
    chosen = []
    for enrollment_id in dict.fromkeys(enrollment_ids):
        enrollment = uow.load(Enrollment, enrollment_id)
        if enrollment.cycle_id != cycle_id:
            raise DomainError("This participant is not in this cycle.", "enrollment_ids")
        if enrollment.active:
            enrollment.schedule_invitation(invitation)
            chosen.append(enrollment)
    uow.save_all(chosen, dataclasses.replace(meta, institution_id=cycle["institution_id"]))
    return len(chosen)
