"""A raised concern's routing only: never its text, kind or raiser's words."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from .tables import concerns


def add(
    conn: sa.Connection,
    concern_id: str,
    institution_id: str | None,
    program_id: str | None,
    involved: list[str],
    raised_event_id: str,
) -> bool:
    """True if the concern is new."""
    if find(conn, concern_id) is not None:
        return False
    conn.execute(
        concerns.insert().values(
            id=concern_id,
            institution_id=institution_id,
            program_id=program_id,
            involved=json.dumps(involved),
            raised_event_id=raised_event_id,
            resolved=False,
        )
    )
    return True


def resolve(conn: sa.Connection, concern_id: str) -> None:
    c = concerns
    conn.execute(c.update().where(c.c.id == concern_id).values(resolved=True))


def find(conn: sa.Connection, concern_id: str) -> Any:
    return conn.execute(sa.select(concerns).where(concerns.c.id == concern_id)).first()


def involved(concern: Any) -> set[str]:
    """Everyone in the concern's pair: never told of it."""
    return set(json.loads(concern.involved))


def still_open(conn: sa.Connection, institution_id: str, program_id: str | None) -> list[Any]:
    """The institution's open concerns (of one program, when given), in a stable order."""
    c = concerns
    query = sa.select(c).where((c.c.institution_id == institution_id) & ~c.c.resolved)
    if program_id:
        query = query.where(c.c.program_id == program_id)
    return conn.execute(query.order_by(c.c.id)).all()
