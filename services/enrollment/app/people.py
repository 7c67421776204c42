"""People: registering someone (their email unique in the consortium), changing their details."""

from __future__ import annotations

import dataclasses
from typing import Any

from services.eventkit import DomainError, Metadata
from services.eventkit.db import one
from services.eventkit.envelope import new_id
from services.eventkit.unit_of_work import UnitOfWork

from ..domain.person import Person
from ..readmodels import lookups
from ..readmodels.tables import institutions


def register_person(uow: UnitOfWork, fields: dict[str, Any], meta: Metadata) -> str:
    """Register a person at their institution; returns their id."""
    person = Person(new_id())
    one(uow.conn, institutions, "institution", id=fields["institution_id"])
    if lookups.email_taken(uow.conn, fields["email"]):
        raise DomainError("Someone in the consortium already uses this email.", "email")
    person.register(**fields)
    uow.save(person, dataclasses.replace(meta, institution_id=fields["institution_id"]))
    return person.id


def update_person(uow: UnitOfWork, person_id: str, changes: dict[str, Any], meta: Metadata) -> None:
    person = uow.load(Person, person_id)
    person.update(**changes)
    uow.save(person, dataclasses.replace(meta, institution_id=person.institution_id))
