"""Pairing's resources as the policy sees them, read from its own projections (whatever the
caller's row-level security scope: the policy decides on these facts)."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import rls
from services.eventkit.access import people
from services.eventkit.db import one
from services.eventkit.http import runtime
from services.eventkit.policy import Resource

from .. import readmodels as rm
from ..readmodels import views


def _in_cycle(conn: sa.Connection, cycle_id: str, *members: str) -> Resource:
    found = views.cycle(conn, cycle_id)
    return Resource(found["institution_id"], found["program_id"], people(*members))


def cycle(cycle_id: str) -> Resource:
    with rls.routing(runtime()) as conn:
        return _in_cycle(conn, cycle_id)


def enrollment(enrollment_id: str) -> Resource:
    """A candidate's enrollment: theirs, and their cycle's staff's."""
    with rls.routing(runtime()) as conn:
        found = one(conn, rm.candidates, "enrollment", enrollment_id=enrollment_id)
        return _in_cycle(conn, found["cycle_id"], found["person_id"])


def pair(pair_id: str) -> Resource:
    """A pair, or a group or family (their ids go where a pair's does): its members."""
    with rls.routing(runtime()) as conn:
        unit = conn.execute(sa.select(rm.units).where(rm.units.c.unit_id == pair_id)).first()
        if unit is not None:
            return _in_cycle(conn, unit.cycle_id, *unit.member_ids)
        found = one(conn, rm.pairs, "pair", pair_id=pair_id)
        return _in_cycle(conn, found["cycle_id"], found["mentee_id"], found["mentor_id"])


def request_to_mentor(request_id: str) -> Resource:
    """A mentee's request: its mentor answers it (the mentee only sees it)."""
    with rls.routing(runtime()) as conn:
        found = one(conn, rm.requests, "request", request_id=request_id)
        return _in_cycle(conn, found["cycle_id"], found["mentor_id"])


def in_cycle(cycle: sa.RowMapping, *members: str) -> Resource:
    return Resource(cycle["institution_id"], cycle["program_id"], people(*members))
