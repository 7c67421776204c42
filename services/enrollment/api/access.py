"""Who may do what: staff of an institution, or the person themself."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort

from services.eventkit import NotFound, rls
from services.eventkit.auth import ADMIN, COORDINATOR, SYSTEM, Principal
from services.eventkit.http import principal, require

STAFF = (ADMIN, COORDINATOR)


def row(conn: sa.Connection, table: sa.Table, row_id: str, what: str) -> sa.RowMapping:
    found = conn.execute(sa.select(table).where(table.c.id == row_id)).mappings().first()
    if found is None:
        if rls.hidden(conn, table, table.c.id == row_id):  # another institution's, on PostgreSQL
            abort(403, description="You do not have the role this needs for that institution.")
        raise NotFound(f"No such {what}.")
    return found


def require_staff(institution_id: str) -> Principal:
    return require(STAFF, institution_id)


def require_self_or_staff(person_id: str, institution_id: str) -> Principal:
    who = principal()
    if who.user_id == person_id or who.has(STAFF, institution_id):
        return who
    abort(403, description="Only this person or their program's coordinators may do that.")


def require_system_self_or_admin(person_id: str) -> Principal:
    who = principal()
    if who.user_id == person_id or who.has((ADMIN, SYSTEM)):
        return who
    abort(403, description="Only this person or the consortium admin may see that.")
