"""Confidential concerns: raised about a pair (to the program's coordinators who are not a party,
or straight to the consortium admin), every read of their content logged, acknowledged within
CONCERN_ACK_HOURS or escalated by the worker's deadline round, resolved with a note."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import ConcurrencyError, Runtime, rls
from services.eventkit.config import env_int
from services.eventkit.envelope import new_id

from ..domain.concerns import Concern, ConcernAccessLog
from ..readmodels import concerns, roster
from .unit_of_work import Clock, UnitOfWork, unit_of_work


def ack_hours() -> int:
    """Hours coordinators have to acknowledge a concern before it escalates (CONCERN_ACK_HOURS)."""
    return env_int("CONCERN_ACK_HOURS", 72)


def coordinator_ids(conn: sa.Connection, cycle: sa.RowMapping) -> set[str]:
    """Who coordinates the cycle's program (or its whole institution)."""
    # Where a concern goes must not depend on what its raiser's scope lets them see.
    with rls.unrestricted(conn):
        return roster.coordinators(conn, cycle["institution_id"], cycle["program_id"])


def raise_concern(
    uow: UnitOfWork, pair_id: str, by: str, kind: str, text: str, about_id: str | None = None
) -> str:
    """The new concern's id; due for acknowledgement CONCERN_ACK_HOURS from the clock's now.
    `about_id`: the member of the pair or group it is about."""
    rel, cycle = roster.relationship(uow.conn, pair_id)
    concern = Concern(new_id())
    concern.raise_(
        rel, by, kind, text, uow.clock(), ack_hours(), coordinator_ids(uow.conn, cycle), about_id
    )
    uow.save_about(concern, cycle["institution_id"])
    return concern.id


def _row(uow: UnitOfWork, concern_id: str) -> sa.RowMapping:
    return concerns.concern(uow.conn, concern_id)


def record_read(uow: UnitOfWork, concern_id: str, viewer_id: str, viewed_as: str) -> sa.RowMapping:
    """The concern's row, its read recorded (ConfidentialRecordViewed) first."""
    row = _row(uow, concern_id)
    audit = uow.load(ConcernAccessLog, concern_id)
    audit.viewed(viewer_id, viewed_as)
    uow.save_about(audit, row["institution_id"])
    return row


def acknowledge(uow: UnitOfWork, concern_id: str, by: str) -> None:
    row = _row(uow, concern_id)
    concern = uow.load(Concern, concern_id)
    concern.acknowledge(by)
    uow.save_about(concern, row["institution_id"])


def resolve(uow: UnitOfWork, concern_id: str, by: str, note: str) -> None:
    row = _row(uow, concern_id)
    concern = uow.load(Concern, concern_id)
    concern.resolve(by, note)
    uow.save_about(concern, row["institution_id"])


def follow_up(uow: UnitOfWork, concern_id: str, by: str, action: str, note: str) -> None:
    """Record what a handler did following the concern (on its timeline)."""
    row = _row(uow, concern_id)
    concern = uow.load(Concern, concern_id)
    concern.follow_up(by, action, note)
    uow.save_about(concern, row["institution_id"])


def context(conn: sa.Connection, row: sa.RowMapping) -> dict:
    """For its handlers: the pair or group the concern is about (kind and members with their
    roles), the member it names, and what was done following it."""
    rel, _ = roster.relationship(conn, row["pair_id"])
    return {
        "relationship": {
            "pair_id": rel.id,
            "kind": rel.kind,
            "members": dict(rel.members),
            "titles": dict(rel.titles),
        },
        "actions": concerns.actions(conn, row["concern_id"]),
    }


def escalate_due(runtime: Runtime, clock: Clock) -> list[str]:
    """Escalate every concern not acknowledged in time to the consortium admin (each once, each
    in its own transaction); the ids escalated."""
    now = clock()
    with runtime.reading() as conn:
        due = concerns.overdue(conn, now)
    escalated = []
    for concern_id, institution_id in due:
        try:
            with unit_of_work(runtime, lambda: now) as uow:
                concern = uow.load(Concern, concern_id)
                if concern.escalate_if_overdue(now):
                    uow.save_about(concern, institution_id)
                    escalated.append(concern_id)
        except ConcurrencyError:
            continue  # acknowledged or escalated meanwhile; the next round looks again
    return escalated
