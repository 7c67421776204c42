"""`tandem erase --person ID-OR-EMAIL --by ADMIN`: what POST /api/people/{id}/erasure does, run
by an operator against enrollment's database (the suite need not be up).

`--by` must name a person holding the consortium_admin role: the erasure is recorded as theirs
(PersonErased, in the audit trail). Prints one JSON line saying what was done.
"""

from __future__ import annotations

import json
import sys

import sqlalchemy as sa

from services.enrollment import readmodels as rm
from services.enrollment.domain import Person
from services.enrollment.service import SERVICE
from services.eventkit.auth import ADMIN
from services.eventkit.envelope import Metadata
from services.eventkit.erasure import erase_person
from services.eventkit.service import Runtime


def _person(conn: sa.Connection, id_or_email: str) -> sa.RowMapping | None:
    people = rm.people
    wanted = id_or_email.strip()
    found = conn.execute(
        sa.select(people).where(sa.or_(people.c.id == wanted, people.c.email == wanted.lower()))
    )
    return found.mappings().first()


def _is_admin(conn: sa.Connection, person_id: str) -> bool:
    roles = rm.staff_roles
    held = conn.execute(
        sa.select(roles.c.person_id).where(
            roles.c.person_id == person_id,
            roles.c.role == ADMIN,
            roles.c.institution_id.is_(None),
        )
    )
    return held.first() is not None


def erase(person: str, by: str, database_url: str | None = None) -> int:
    rt = Runtime(SERVICE, database_url)
    try:
        with rt.reading() as conn:
            target = _person(conn, person)
            admin = _person(conn, by)
            allowed = admin is not None and _is_admin(conn, admin["id"])
        if target is None:
            print(f"tandem erase: nobody has the id or email {person!r}", file=sys.stderr)
            return 1
        if not allowed:
            print(f"tandem erase: {by!r} is not a consortium admin", file=sys.stderr)
            return 2
        meta = Metadata(target["institution_id"], actor={"id": admin["id"], "role": ADMIN})
        done = erase_person(rt, Person.stream_id_for(target["id"]), target["id"], meta)
    finally:
        rt.engine.dispose()
    print(json.dumps({**done.as_dict(), "erased_by": admin["id"]}))
    return 0
