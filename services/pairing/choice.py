"""Mentee choice as the service runs it: opening rounds, answering, and the deadline loop."""

from __future__ import annotations

import logging
import threading

import sqlalchemy as sa

from services.eventkit import Metadata, Runtime
from services.eventkit.envelope import format_time, utcnow

from . import engine
from . import readmodels as rm
from .domain import CyclePairing
from .runs import load_pool

log = logging.getLogger(__name__)


def choices_and_capacity(
    conn: sa.Connection, cycle: sa.RowMapping, min_level_gap: int = 2
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """Each mentee's ranked mentors that the hard rules allow, and every mentor's capacity."""
    mentees, mentors = load_pool(conn, cycle["id"])
    rules = engine.Rules(
        min_level_gap=min_level_gap, cross_institution=bool(cycle["cross_institution"])
    )
    by_id = {m.id: m for m in mentors}
    choices = {
        mentee.id: [
            m for m in mentee.ranking if m in by_id and engine.acceptable(mentee, by_id[m], rules)
        ]
        for mentee in mentees
    }
    return choices, {m.id: m.capacity for m in mentors}


def mentor_capacity(conn: sa.Connection, cycle_id: str) -> dict[str, int]:
    """Each active mentor's capacity: all that answering or expiring a request needs."""
    c = rm.candidates
    rows = conn.execute(
        sa.select(c.c.person_id, c.c.capacity).where(
            c.c.cycle_id == cycle_id, c.c.role == "mentor", c.c.status == "active"
        )
    )
    return {r.person_id: r.capacity or 1 for r in rows}


def cycles_with_waiting_requests(conn: sa.Connection) -> list[str]:
    # Deadlines are stored in one fixed ISO format (format_time), so they compare as text.
    rows = conn.execute(
        sa.select(rm.requests.c.cycle_id)
        .where(rm.requests.c.status == "pending", rm.requests.c.deadline <= format_time(utcnow()))
        .distinct()
    )
    return [r.cycle_id for r in rows]


def expire_due(rt: Runtime, cycle_id: str) -> int:
    with rt.engine.begin() as conn:
        cycle = (
            conn.execute(sa.select(rm.cycles).where(rm.cycles.c.id == cycle_id)).mappings().one()
        )
        pairing = rt.load(conn, CyclePairing, cycle_id)
        capacity = mentor_capacity(conn, cycle_id)
        expired = pairing.expire_due(capacity, utcnow())
        rt.save(conn, pairing, Metadata(cycle["institution_id"]))
        return expired


def request_deadlines(rt: Runtime, stop: threading.Event, interval_s: float = 30.0) -> None:
    """Worker loop: requests nobody answered in time move on to the mentee's next choice."""
    while not stop.wait(interval_s):
        try:
            with rt.reading() as conn:
                due = cycles_with_waiting_requests(conn)
            for cycle_id in due:
                log.info(
                    "expired %d mentee-choice requests in cycle %s",
                    expire_due(rt, cycle_id),
                    cycle_id,
                )
        except Exception:
            log.exception("mentee-choice deadlines: will try again")
