"""The timer loop the notifications worker runs: survey reminders before the due date, alerts
for pairs that have logged no meeting for a while, and reminders of meetings the day before.

The reactions write the timers as rows (readmodels.timers). A due timer is taken and its notices
queued in one transaction (app.reminders). Every notice's id is derived from what it is about, so
even a timer fired twice (two workers, a rebuilt read model) queues it once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

import sqlalchemy as sa

from services.eventkit.config import env
from services.eventkit.envelope import utcnow
from services.eventkit.service import Runtime

from .app import reminders
from .app.on_meeting_requests import remind as remind_meeting
from .app.unit_of_work import Clock, UnitOfWork
from .readmodels import meeting_reminders
from .readmodels.tables import cycles, pair_watch, survey_reminders

log = logging.getLogger(__name__)


class Timers:
    def __init__(
        self, runtime: Runtime, poll_s: float | None = None, clock: Clock = utcnow
    ) -> None:
        self.runtime = runtime
        self.clock = clock
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
        """Fire every timer due at `now` (the clock's time if not given); return how many notices
        were queued."""
        now = now or self.clock()
        return (
            self._survey_reminders(now)
            + self._no_meeting_alerts(now)
            + self._meeting_reminders(now)
        )

    def _fire(self, now: dt.datetime, use_case: Callable[[UnitOfWork], int]) -> int:
        """One timer, in its own transaction."""
        with self.runtime.engine.begin() as conn:
            return use_case(UnitOfWork(conn, self.runtime.store, lambda: now))

    def _survey_reminders(self, now: dt.datetime, limit: int = 200) -> int:
        r = survey_reminders
        with self.runtime.reading() as conn:
            due = conn.execute(
                sa.select(r.c.instance_id, r.c.person_id)
                .where(r.c.run_at <= now)
                .group_by(r.c.instance_id, r.c.person_id)
                .limit(limit)
            ).all()
        return sum(
            self._fire(
                now, lambda uow, row=row: reminders.remind(uow, row.instance_id, row.person_id)
            )
            for row in due
        )

    def _no_meeting_alerts(self, now: dt.datetime, limit: int = 200) -> int:
        w, c = pair_watch, cycles
        with self.runtime.reading() as conn:
            pair_ids = list(
                conn.execute(
                    sa.select(w.c.pair_id)
                    .join(c, c.c.id == w.c.cycle_id)
                    .where(w.c.active & c.c.is_open & (w.c.next_alert_at <= now))
                    .order_by(w.c.next_alert_at)
                    .limit(limit)
                ).scalars()
            )
        return sum(
            self._fire(now, lambda uow, pair_id=pair_id: reminders.alert(uow, pair_id))
            for pair_id in pair_ids
        )

    def _meeting_reminders(self, now: dt.datetime) -> int:
        with self.runtime.reading() as conn:
            due = meeting_reminders.due(conn, now)
        return sum(
            self._fire(now, lambda uow, request_id=request_id: remind_meeting(uow, request_id))
            for request_id in due
        )


def timers(runtime: Runtime, stop: threading.Event) -> None:
    """The worker's timer loop (Service.background)."""
    Timers(runtime).run(stop)
