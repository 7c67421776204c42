"""Concern deadlines as the service runs them: the clock, the ack window and the worker loop."""

from __future__ import annotations

import datetime as dt
import logging
import threading

import sqlalchemy as sa

from services.eventkit import ConcurrencyError, Metadata, Runtime
from services.eventkit.config import env_int
from services.eventkit.envelope import format_time, utcnow

from . import readmodels as rm
from .domain.concerns import RAISED, Concern

log = logging.getLogger(__name__)


def clock() -> dt.datetime:
    """Now, in UTC (tests replace it to move time on)."""
    return utcnow()


def ack_hours() -> int:
    """Hours coordinators have to acknowledge a concern before it escalates (CONCERN_ACK_HOURS)."""
    return env_int("CONCERN_ACK_HOURS", 72)


def overdue(conn: sa.Connection, now: dt.datetime) -> list[tuple[str, str | None]]:
    c = rm.concerns
    rows = conn.execute(
        sa.select(c.c.concern_id, c.c.institution_id)
        .where(c.c.status == RAISED, c.c.escalated.is_(False), c.c.ack_due <= format_time(now))
        .order_by(c.c.ack_due)
    )
    return [(r.concern_id, r.institution_id) for r in rows]


def escalate_due(rt: Runtime, now: dt.datetime | None = None) -> list[str]:
    """Escalate every concern not acknowledged in time to the consortium admin (each once)."""
    now = now or clock()
    with rt.reading() as conn:
        due = overdue(conn, now)
    escalated = []
    for concern_id, institution_id in due:
        try:
            with rt.engine.begin() as conn:
                concern = rt.load(conn, Concern, concern_id)
                if concern.escalate_if_overdue(now):
                    rt.save(conn, concern, Metadata(institution_id))
                    escalated.append(concern_id)
        except ConcurrencyError:
            continue  # acknowledged or escalated meanwhile; the next round looks again
    return escalated


def concern_deadlines(rt: Runtime, stop: threading.Event, interval_s: float = 60.0) -> None:
    """Worker loop: concerns nobody acknowledged within CONCERN_ACK_HOURS go to the admin."""
    while not stop.wait(interval_s):
        try:
            escalated = escalate_due(rt)
            if escalated:
                log.info("escalated %d unacknowledged concerns", len(escalated))
        except Exception:
            log.exception("concern deadlines: will try again")
