"""Confidential concerns: raised about a pair (to the program's coordinators who are not a party,
or straight to the consortium admin), every read of their content logged, acknowledged within
CONCERN_ACK_HOURS or escalated by the worker's deadline round, resolved with a note."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from services.eventkit import ConcurrencyError, Runtime, rls
from services.eventkit.auth import COORDINATOR
from services.eventkit.config import env_int
from services.eventkit.db import one
from services.eventkit.envelope import format_time, new_id

from .. import readmodels as rm
from .. import relationships
from ..domain.concerns import RAISED, Concern, ConcernAccessLog
from .unit_of_work import Clock, UnitOfWork, unit_of_work


def ack_hours() -> int:
    """Hours coordinators have to acknowledge a concern before it escalates (CONCERN_ACK_HOURS)."""
    return env_int("CONCERN_ACK_HOURS", 72)


def coordinator_ids(conn: sa.Connection, cycle: sa.RowMapping) -> set[str]:
    """Who coordinates the cycle's program (or its whole institution)."""
    # Where a concern goes must not depend on what its raiser's scope lets them see.
    s = rm.staff_roles
    with rls.unrestricted(conn):
        rows = conn.execute(
            sa.select(s.c.person_id).where(
                s.c.role == COORDINATOR,
                s.c.institution_id == cycle["institution_id"],
                sa.or_(s.c.program_id.is_(None), s.c.program_id == cycle["program_id"]),
            )
        ).all()
    return {r.person_id for r in rows}


def raise_concern(uow: UnitOfWork, pair_id: str, by: str, kind: str, text: str) -> str:
    """The new concern's id; due for acknowledgement CONCERN_ACK_HOURS from the clock's now."""
    rel, cycle = relationships.relationship(uow.conn, pair_id)
    concern = Concern(new_id())
    concern.raise_(rel, by, kind, text, uow.clock(), ack_hours(), coordinator_ids(uow.conn, cycle))
    uow.save(concern, cycle["institution_id"])
    return concern.id


def _row(uow: UnitOfWork, concern_id: str) -> sa.RowMapping:
    return one(uow.conn, rm.concerns, "concern", concern_id=concern_id)


def record_read(uow: UnitOfWork, concern_id: str, viewer_id: str, viewed_as: str) -> sa.RowMapping:
    """The concern's row, its read recorded (ConfidentialRecordViewed) first."""
    row = _row(uow, concern_id)
    audit = uow.load(ConcernAccessLog, concern_id)
    audit.viewed(viewer_id, viewed_as)
    uow.save(audit, row["institution_id"])
    return row


def acknowledge(uow: UnitOfWork, concern_id: str, by: str) -> None:
    row = _row(uow, concern_id)
    concern = uow.load(Concern, concern_id)
    concern.acknowledge(by)
    uow.save(concern, row["institution_id"])


def resolve(uow: UnitOfWork, concern_id: str, by: str, note: str) -> None:
    row = _row(uow, concern_id)
    concern = uow.load(Concern, concern_id)
    concern.resolve(by, note)
    uow.save(concern, row["institution_id"])


def overdue(conn: sa.Connection, now: dt.datetime) -> list[tuple[str, str | None]]:
    """Concerns nobody acknowledged by their deadline, not escalated yet (oldest first)."""
    c = rm.concerns
    rows = conn.execute(
        sa.select(c.c.concern_id, c.c.institution_id)
        .where(c.c.status == RAISED, c.c.escalated.is_(False), c.c.ack_due <= format_time(now))
        .order_by(c.c.ack_due)
    )
    return [(r.concern_id, r.institution_id) for r in rows]


def escalate_due(runtime: Runtime, clock: Clock) -> list[str]:
    """Escalate every concern not acknowledged in time to the consortium admin (each once, each
    in its own transaction); the ids escalated."""
    now = clock()
    with runtime.reading() as conn:
        due = overdue(conn, now)
    escalated = []
    for concern_id, institution_id in due:
        try:
            with unit_of_work(runtime, lambda: now) as uow:
                concern = uow.load(Concern, concern_id)
                if concern.escalate_if_overdue(now):
                    uow.save(concern, institution_id)
                    escalated.append(concern_id)
        except ConcurrencyError:
            continue  # acknowledged or escalated meanwhile; the next round looks again
    return escalated
