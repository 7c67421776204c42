"""The deadline loop the pairing worker runs: mentee-choice requests nobody answered in time move
on to the mentee's next choice (app.choice.expire_due), one cycle per transaction."""

from __future__ import annotations

import logging
import threading

from services.eventkit.envelope import utcnow
from services.eventkit.service import Runtime
from services.eventkit.unit_of_work import Clock, UnitOfWork

from .app.choice import expire_due
from .readmodels import views

log = logging.getLogger(__name__)


class RequestDeadlines:
    def __init__(self, runtime: Runtime, interval_s: float = 30.0, clock: Clock = utcnow) -> None:
        self.runtime = runtime
        self.interval_s = interval_s
        self.clock = clock

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:
                # A database outage must not end the worker; the next round tries again.
                log.exception("mentee-choice deadlines: will try again")

    def run_once(self) -> int:
        """Expire every request past its deadline at the clock's time; return how many."""
        now = self.clock()
        with self.runtime.reading() as conn:
            due = views.cycles_with_waiting_requests(conn, now)
        total = 0
        for cycle_id in due:
            with self.runtime.engine.begin() as conn:
                expired = expire_due(UnitOfWork(conn, self.runtime.store, lambda: now), cycle_id)
            log.info("expired %d mentee-choice requests in cycle %s", expired, cycle_id)
            total += expired
        return total


def request_deadlines(rt: Runtime, stop: threading.Event, interval_s: float = 30.0) -> None:
    """The worker's deadline loop (Service.background)."""
    RequestDeadlines(rt, interval_s).run(stop)
