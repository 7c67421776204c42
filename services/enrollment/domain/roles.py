"""Staff roles: which roles exist and the scope each is held at (a person's roles are recorded
on the person's stream, see `person`)."""

from __future__ import annotations

from services.eventkit.aggregate import DomainError
from services.eventkit.contracts.enrollment import STAFF_ROLES

StaffRole = tuple[str, str | None, str | None]  # (role, institution id, program id)


def staff_role(role: str, institution_id: str | None, program_id: str | None) -> StaffRole:
    if role not in STAFF_ROLES:
        raise DomainError(f"Must be one of: {', '.join(STAFF_ROLES)}.", "role")
    if role == "consortium_admin" and (institution_id or program_id):
        raise DomainError("The consortium admin role is consortium-wide.", "institution_id")
    if role == "coordinator" and not institution_id:
        raise DomainError("A coordinator belongs to an institution.", "institution_id")
    return (role, institution_id, program_id)
