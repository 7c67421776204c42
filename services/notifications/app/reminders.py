"""What a due timer does: remind a person of a survey, or tell a pair that has not met (and then
its coordinators). Each runs in the transaction that takes the timer, so a crash before the commit
leaves the timer due and one after it leaves nothing to send twice."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import sqlalchemy as sa

from ..domain import schedule
from ..readmodels import directory, timers
from ..readmodels.tables import pair_watch, survey_reminders
from .notices import Cause, queue, web_link
from .unit_of_work import UnitOfWork
from .waiting import NotReady, cycle_context

log = logging.getLogger(__name__)


def remind(uow: UnitOfWork, instance_id: str, person_id: str) -> int:
    """The person's latest due reminder of this survey; earlier ones missed (the worker was
    down) are dropped with it, so nobody gets two reminders at once."""
    conn, now = uow.conn, uow.clock()
    r = survey_reminders
    mine = (r.c.instance_id == instance_id) & (r.c.person_id == person_id) & (r.c.run_at <= now)
    rows = conn.execute(sa.select(r).where(mine).order_by(r.c.days_before)).all()
    # Taking the rows is the claim: a second worker deletes nothing and sends nothing.
    if not rows or conn.execute(r.delete().where(mine)).rowcount != len(rows):
        return 0
    latest = rows[0]
    zone = directory.time_zone_of(conn, person_id)
    if timers.answered(conn, instance_id, person_id):
        return 0
    if schedule.local_date(now, zone).isoformat() > latest.due_on:
        return 0  # too late to remind: the survey is past due
    try:
        program, _ = cycle_context(uow, latest.cycle_id)
    except NotReady:
        log.warning("survey reminder for an unknown cycle %s dropped", latest.cycle_id)
        return 0
    context = {
        "program": program,
        "due_on": latest.due_on,
        "days_left": latest.days_before,
        "link": web_link("/me/surveys"),
    }
    cause = Cause(latest.source_event_id, latest.correlation_id)
    key = f"survey-reminder/{instance_id}/{person_id}/{latest.days_before}"
    return int(queue(uow, cause, person_id, "survey_reminder", context, key=key))


def alert(uow: UnitOfWork, pair_id: str) -> int:
    """The pair's next no-meeting alert, if it is still due."""
    conn, now = uow.conn, uow.clock()
    w = pair_watch
    row = conn.execute(sa.select(w).where(w.c.pair_id == pair_id)).first()
    if row is None or not row.active or row.next_alert_at is None:
        return 0
    if _aware(row.next_alert_at) > now:
        return 0
    stage = row.stage + 1
    # Moving the stage on is the claim, guarded by the gap and stage read.
    taken = conn.execute(
        w.update()
        .where((w.c.pair_id == pair_id) & (w.c.stage == row.stage))
        .where(w.c.gap_event_id == row.gap_event_id)
        .values(
            stage=stage,
            next_alert_at=timers.no_meeting_alert_at(conn, row.cycle_id, row.gap_from, stage),
        )
    ).rowcount
    if taken != 1:
        return 0
    return _tell(uow, row)


def _tell(uow: UnitOfWork, row: Any) -> int:
    conn = uow.conn
    try:
        program, expectations = cycle_context(uow, row.cycle_id)
    except NotReady:
        log.warning("no-meeting alert for an unknown cycle %s dropped", row.cycle_id)
        return 0
    zone, days = timers.meeting_rule(conn, row.cycle_id)
    members = directory.members(conn, row.pair_id)
    names = {m: directory.person_or_partner(conn, m)["name"] for m in members}
    context = {
        "program": program,
        "days": (schedule.local_date(uow.clock(), zone) - dt.date.fromisoformat(row.gap_from)).days,
        "last_met_on": row.last_met_on if row.last_met_on == row.gap_from else None,
        "meeting_expectations": expectations,
    }
    cause = Cause(row.gap_event_id, row.correlation_id or row.gap_event_id)
    gap = f"{row.pair_id}/{row.gap_event_id}"
    queued = 0
    if row.stage == 0:
        for person_id in members:
            partners = sorted(names[m] for m in members if m != person_id)
            notice = {
                **context,
                "partner_names": " and ".join(partners) or "your partner",
                "link": web_link("/me/meetings"),
            }
            key = f"no-meeting/{gap}/{person_id}"
            queued += queue(uow, cause, person_id, "no_meeting", notice, key=key)
        return queued
    notice = {
        **context,
        "member_names": " and ".join(sorted(names.values())),
        "reminded_days": timers.escalation_days(days),
        "link": web_link(f"/coordinator/cycles/{row.cycle_id}/pairing"),
    }
    coordinators = directory.coordinators(conn, program["institution_id"], program["id"])
    for person_id in sorted(coordinators - set(members)):
        key = f"pair-not-meeting/{gap}/{person_id}"
        queued += queue(uow, cause, person_id, "pair_not_meeting", notice, key=key)
    return queued


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back without a zone; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
