"""Staff roles: granting and revoking them (who may is the policy's call, in the API)."""

from __future__ import annotations

import dataclasses
from typing import Any

from services.eventkit import DomainError, Metadata, NotFound
from services.eventkit.db import one
from services.eventkit.unit_of_work import UnitOfWork

from ..domain.person import Person
from ..readmodels.tables import programs


def change_role(
    uow: UnitOfWork, person_id: str, grant: dict[str, Any], give: bool, meta: Metadata
) -> None:
    """Grant (`give`) or revoke a staff role, held at the person's own institution (and, for a
    program coordinator, at one of its programs)."""
    person = uow.load(Person, person_id)
    if not person.exists:
        raise NotFound("No such person.")
    if grant["institution_id"] and grant["institution_id"] != person.institution_id:
        raise DomainError("Staff roles are held at the person's own institution.", "institution_id")
    if grant["program_id"]:
        program = one(uow.conn, programs, "program", id=grant["program_id"])
        if program["institution_id"] != grant["institution_id"]:
            raise DomainError("The program belongs to another institution.", "program_id")
    if give:
        person.grant(grant["role"], grant["institution_id"], grant["program_id"])
    else:
        person.revoke(grant["role"], grant["institution_id"], grant["program_id"])
    uow.save(person, dataclasses.replace(meta, institution_id=person.institution_id))
