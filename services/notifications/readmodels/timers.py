"""The timers the reactions set and the worker's timer loop fires: survey reminders before a due
date, and the watch on each pair's gap without a meeting."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope
from services.eventkit.config import env_int

from ..domain import schedule
from . import directory
from .tables import pair_watch, survey_answers, survey_reminders

# --- survey reminders ---------------------------------------------------------------------------


def answered(conn: sa.Connection, instance_id: str, person_id: str) -> bool:
    a = survey_answers
    found = conn.execute(
        sa.select(a.c.person_id).where(
            (a.c.instance_id == instance_id) & (a.c.person_id == person_id)
        )
    )
    return found.first() is not None


def schedule_reminders(conn: sa.Connection, e: Envelope, person_id: str) -> None:
    """SurveyIssued: the person's reminders, unless they have answered already."""
    p = e.payload
    if answered(conn, p["instance_id"], person_id):
        return
    zone = directory.time_zone_of(conn, person_id)
    r = survey_reminders
    for days_before, run_at in schedule.reminder_times(
        dt.date.fromisoformat(p["due_on"]), zone, e.occurred_at
    ):
        key = (r.c.instance_id == p["instance_id"]) & (r.c.person_id == person_id)
        if conn.execute(
            sa.select(r.c.run_at).where(key & (r.c.days_before == days_before))
        ).first():
            continue
        conn.execute(
            r.insert().values(
                instance_id=p["instance_id"], person_id=person_id, days_before=days_before,
                run_at=run_at, cycle_id=p["cycle_id"], due_on=p["due_on"],
                source_event_id=e.event_id, correlation_id=e.correlation_id,
            )
        )  # fmt: skip


def record_answer(conn: sa.Connection, e: Envelope) -> None:
    """SurveyAnswered: only who answered which survey is kept (the answers stay in feedback).
    Their reminders go."""
    instance_id, person_id = e.payload["instance_id"], e.payload["person_id"]
    if not answered(conn, instance_id, person_id):
        conn.execute(survey_answers.insert().values(instance_id=instance_id, person_id=person_id))
    r = survey_reminders
    conn.execute(r.delete().where((r.c.instance_id == instance_id) & (r.c.person_id == person_id)))


# --- pairs that do not meet ---------------------------------------------------------------------


def meeting_rule(conn: sa.Connection, cycle_id: str | None) -> tuple[str, int]:
    """The cycle's institution's time zone, and how many days its pairs may go without a meeting:
    what the cycle's meeting expectations say, else NOTIFY_NO_MEETING_DAYS (30)."""
    zone, expectations = directory.cycle_rhythm(conn, cycle_id)
    default = env_int("NOTIFY_NO_MEETING_DAYS", schedule.NO_MEETING_DAYS)
    return zone, schedule.allowed_gap_days(expectations, default)


def escalation_days(days: int) -> int:
    """NOTIFY_NO_MEETING_ESCALATE_DAYS, else half the allowed gap."""
    return schedule.escalation_days(days, env_int("NOTIFY_NO_MEETING_ESCALATE_DAYS", 0))


def no_meeting_alert_at(
    conn: sa.Connection, cycle_id: str | None, gap_from: str, stage: int
) -> dt.datetime | None:
    zone, days = meeting_rule(conn, cycle_id)
    return schedule.no_meeting_alert_at(gap_from, stage, days, escalation_days(days), zone)


def _watch_row(conn: sa.Connection, pair_id: str) -> Any:
    return conn.execute(sa.select(pair_watch).where(pair_watch.c.pair_id == pair_id)).first()


def watch_pair(conn: sa.Connection, e: Envelope, pair_id: str | None = None) -> None:
    """PairCreated (or GroupFormed, FamilyFormed with the unit's id as `pair_id`): a published
    pair, group or family starts its first gap, from the day it was paired (or from a meeting
    already logged, if that arrived first). A group grown by a re-run keeps its gap."""
    p = {**e.payload, "pair_id": pair_id or e.payload["pair_id"]}
    zone, _ = meeting_rule(conn, p["cycle_id"])
    paired_on = schedule.local_date(e.occurred_at, zone).isoformat()
    row = _watch_row(conn, p["pair_id"])
    if row is not None and row.paired_on is not None:
        return  # known already
    gap = {"gap_from": paired_on, "gap_event_id": e.event_id, "correlation_id": e.correlation_id}
    if row is not None and row.last_met_on is not None and row.last_met_on >= paired_on:
        gap = {"gap_from": row.last_met_on}
    values = {
        "cycle_id": p["cycle_id"],
        "active": True,
        "paired_on": paired_on,
        "stage": 0,
        **gap,
        "next_alert_at": no_meeting_alert_at(conn, p["cycle_id"], gap["gap_from"], 0),
    }
    if row is None:
        conn.execute(pair_watch.insert().values(pair_id=p["pair_id"], last_met_on=None, **values))
    else:
        conn.execute(
            pair_watch.update().where(pair_watch.c.pair_id == p["pair_id"]).values(**values)
        )


def watch_meeting(conn: sa.Connection, e: Envelope) -> None:
    """MeetingLogged: a meeting dated after the current gap began ends that gap and starts the
    next."""
    p = e.payload
    met_on = p["date"][:10]
    row = _watch_row(conn, p["pair_id"])
    gap = {
        "gap_from": met_on,
        "gap_event_id": e.event_id,
        "correlation_id": e.correlation_id,
        "stage": 0,
    }
    if row is None:  # before its pair (or a coaching group's meeting): no alerts until paired
        conn.execute(
            pair_watch.insert().values(
                pair_id=p["pair_id"], cycle_id=p["cycle_id"], active=False, paired_on=None,
                last_met_on=met_on, next_alert_at=None, **gap,
            )
        )  # fmt: skip
        return
    values: dict[str, Any] = {}
    if row.last_met_on is None or met_on > row.last_met_on:
        values["last_met_on"] = met_on
    if row.gap_from is None or met_on > row.gap_from:
        alert = no_meeting_alert_at(conn, row.cycle_id, met_on, 0) if row.active else None
        values.update(gap, next_alert_at=alert)
    if values:
        conn.execute(
            pair_watch.update().where(pair_watch.c.pair_id == p["pair_id"]).values(**values)
        )


def end_watch(conn: sa.Connection, e: Envelope, pair_id: str | None = None) -> None:
    """PairEnded (or GroupEnded, FamilyEnded with the unit's id): no more alerts for it."""
    w = pair_watch
    conn.execute(
        w.update()
        .where(w.c.pair_id == (pair_id or e.payload["pair_id"]))
        .values(active=False, next_alert_at=None)
    )
