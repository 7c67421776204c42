"""Notifications' resources as the policy sees them, read from its own records."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import NotFound, rls
from services.eventkit.access import people
from services.eventkit.http import runtime
from services.eventkit.policy import Resource

from ..readmodels.tables import cycles, programs, recipients


def institution_of(person_id: str) -> str | None:
    """Read whatever the caller's row-level security scope: the policy decides on it."""
    r = recipients
    with rls.routing(runtime()) as conn:
        return conn.execute(sa.select(r.c.institution_id).where(r.c.id == person_id)).scalar()


def person(person_id: str) -> Resource:
    """The person, at their institution once this service has heard of them."""
    return Resource(institution_of(person_id), people=people(person_id))


def institution(institution_id: str) -> Resource:
    return Resource(institution_id)


def cycle(cycle_id: str) -> Resource:
    """The cycle, in its program and institution as this service knows them (404 until it does)."""
    with rls.routing(runtime()) as conn:
        found = conn.execute(
            sa.select(programs.c.id, programs.c.institution_id)
            .join(cycles, cycles.c.program_id == programs.c.id)
            .where(cycles.c.id == cycle_id)
        ).first()
    if found is None:
        raise NotFound("No such cycle.")
    return Resource(found.institution_id, found.id)
