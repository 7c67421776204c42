"""The timer loop the notifications worker runs: survey reminders before the due date, and alerts
for pairs that have logged no meeting for a while.

The reactions write the timers as rows (readmodels.survey_reminders, readmodels.pair_watch). A
due timer is taken and its notices queued in one transaction: a crash before the commit leaves
the timer due, one after it leaves nothing to send twice. Every notice's id is derived from what
it is about, so even a timer fired twice (two workers, a rebuilt read model) queues it once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import Any

import sqlalchemy as sa

from services.eventkit.config import env
from services.eventkit.envelope import utcnow
from services.eventkit.service import Runtime

from . import readmodels as rm
from . import schedule

log = logging.getLogger(__name__)


class Timers:
    def __init__(self, runtime: Runtime, poll_s: float | None = None) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.poll_s = poll_s if poll_s is not None else float(env("NOTIFY_TIMER_POLL_S", "30"))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                # A database outage must not end the worker; the next round tries again.
                log.exception("timer round failed")
            stop.wait(self.poll_s)

    def run_once(self, now: dt.datetime | None = None) -> int:
        """Fire every timer due at `now`; return how many notices were queued."""
        now = now or utcnow()
        return self._survey_reminders(now) + self._no_meeting_alerts(now)

    # --- survey reminders --------------------------------------------------------------------

    def _survey_reminders(self, now: dt.datetime, limit: int = 200) -> int:
        r = rm.survey_reminders
        with self.runtime.reading() as conn:
            due = conn.execute(
                sa.select(r.c.instance_id, r.c.person_id)
                .where(r.c.run_at <= now)
                .group_by(r.c.instance_id, r.c.person_id)
                .limit(limit)
            ).all()
        return sum(self._remind(row.instance_id, row.person_id, now) for row in due)

    def _remind(self, instance_id: str, person_id: str, now: dt.datetime) -> int:
        """The person's latest due reminder of this survey; earlier ones missed (the worker was
        down) are dropped with it, so nobody gets two reminders at once."""
        r = rm.survey_reminders
        mine = (r.c.instance_id == instance_id) & (r.c.person_id == person_id) & (r.c.run_at <= now)
        with self.engine.begin() as conn:
            rows = conn.execute(sa.select(r).where(mine).order_by(r.c.days_before)).all()
            # Taking the rows is the claim: a second worker deletes nothing and sends nothing.
            if not rows or conn.execute(r.delete().where(mine)).rowcount != len(rows):
                return 0
            latest = rows[0]
            zone = rm.institution_context(conn, rm._person_row(conn, person_id)["institution_id"])[
                "time_zone"
            ]
            if rm._answered(conn, instance_id, person_id):
                return 0
            if schedule.local_date(now, zone).isoformat() > latest.due_on:
                return 0  # too late to remind: the survey is past due
            try:
                program, _ = rm._cycle_context(conn, latest.cycle_id)
            except rm.NotReady:
                log.warning("survey reminder for an unknown cycle %s dropped", latest.cycle_id)
                return 0
            context = {
                "program": program,
                "due_on": latest.due_on,
                "days_left": latest.days_before,
                "link": rm.web_link("/me/surveys"),
            }
            cause = rm.Cause(latest.source_event_id, latest.correlation_id)
            key = f"survey-reminder/{instance_id}/{person_id}/{latest.days_before}"
            return int(rm.queue(conn, cause, person_id, "survey_reminder", context, key=key))

    # --- pairs with no meeting ---------------------------------------------------------------

    def _no_meeting_alerts(self, now: dt.datetime, limit: int = 200) -> int:
        w, c = rm.pair_watch, rm.cycles
        with self.runtime.reading() as conn:
            due = conn.execute(
                sa.select(w.c.pair_id)
                .join(c, c.c.id == w.c.cycle_id)
                .where(w.c.active & ~c.c.closed & (w.c.next_alert_at <= now))
                .order_by(w.c.next_alert_at)
                .limit(limit)
            ).scalars()
            pair_ids = list(due)
        return sum(self._alert(pair_id, now) for pair_id in pair_ids)

    def _alert(self, pair_id: str, now: dt.datetime) -> int:
        w = rm.pair_watch
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(w).where(w.c.pair_id == pair_id)).first()
            if row is None or not row.active or row.next_alert_at is None:
                return 0
            if _aware(row.next_alert_at) > now:
                return 0
            stage = row.stage + 1
            # Moving the stage on is the claim, guarded by the gap and stage read.
            taken = conn.execute(
                w.update()
                .where(
                    (w.c.pair_id == pair_id)
                    & (w.c.stage == row.stage)
                    & (w.c.gap_event_id == row.gap_event_id)
                )
                .values(
                    stage=stage,
                    next_alert_at=rm.no_meeting_alert_at(conn, row.cycle_id, row.gap_from, stage),
                )
            ).rowcount
            if taken != 1:
                return 0
            return self._tell(conn, row, now)

    def _tell(self, conn: sa.Connection, row: Any, now: dt.datetime) -> int:
        try:
            program, expectations = rm._cycle_context(conn, row.cycle_id)
        except rm.NotReady:
            log.warning("no-meeting alert for an unknown cycle %s dropped", row.cycle_id)
            return 0
        zone, days = rm.cycle_meeting_rule(conn, row.cycle_id)
        members = rm._members(conn, row.pair_id)
        people = {m: rm._person_row(conn, m) for m in members}
        context = {
            "program": program,
            "days": (schedule.local_date(now, zone) - dt.date.fromisoformat(row.gap_from)).days,
            "last_met_on": row.last_met_on if row.last_met_on == row.gap_from else None,
            "meeting_expectations": expectations,
        }
        cause = rm.Cause(row.gap_event_id, row.correlation_id or row.gap_event_id)
        gap = f"{row.pair_id}/{row.gap_event_id}"
        queued = 0
        if row.stage == 0:
            for person_id in members:
                partners = sorted(people[m]["name"] for m in members if m != person_id)
                notice = {
                    **context,
                    "partner_names": " and ".join(partners) or "your partner",
                    "link": rm.web_link("/me/meetings"),
                }
                key = f"no-meeting/{gap}/{person_id}"
                queued += rm.queue(conn, cause, person_id, "no_meeting", notice, key=key)
            return queued
        notice = {
            **context,
            "member_names": " and ".join(sorted(people[m]["name"] for m in members)),
            "reminded_days": rm.escalation_days(days),
            "link": rm.web_link(f"/coordinator/cycles/{row.cycle_id}/pairing"),
        }
        for person_id in sorted(
            rm._coordinators(conn, program["institution_id"], program["id"]) - set(members)
        ):
            key = f"pair-not-meeting/{gap}/{person_id}"
            queued += rm.queue(conn, cause, person_id, "pair_not_meeting", notice, key=key)
        return queued


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back without a zone; everything stored is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def timers(runtime: Runtime, stop: threading.Event) -> None:
    """The worker's timer loop (Service.background)."""
    Timers(runtime).run(stop)
