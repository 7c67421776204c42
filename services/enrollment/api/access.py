"""Enrollment's resources as the policy sees them, read from the records themselves."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import rls
from services.eventkit.access import people
from services.eventkit.db import one
from services.eventkit.http import runtime
from services.eventkit.policy import Resource

from .. import readmodels as rm


def row(conn: sa.Connection, table: sa.Table, row_id: str, what: str) -> sa.RowMapping:
    return one(conn, table, what, id=row_id)


def _read(table: sa.Table, row_id: str, what: str) -> sa.RowMapping:
    with rls.routing(runtime()) as conn:
        return row(conn, table, row_id, what)


def institution(institution_id: str) -> Resource:
    return Resource(_read(rm.institutions, institution_id, "institution")["id"])


def program(program_id: str) -> Resource:
    found = _read(rm.programs, program_id, "program")
    return Resource(found["institution_id"], found["id"])


def cycle(cycle_id: str) -> Resource:
    return cycle_of(_read(rm.cycles, cycle_id, "cycle"))


def cycle_of(found: sa.RowMapping) -> Resource:
    return Resource(found["institution_id"], found["program_id"])


def person(person_id: str) -> Resource:
    return person_of(_read(rm.people, person_id, "person"))


def person_of(found: sa.RowMapping) -> Resource:
    return Resource(found["institution_id"], people=people(found["id"]))


def enrollment(enrollment_id: str) -> Resource:
    return enrollment_of(_read(rm.enrollments, enrollment_id, "enrollment"))


def enrollment_of(found: sa.RowMapping) -> Resource:
    return Resource(found["institution_id"], found["program_id"], people(found["person_id"]))
