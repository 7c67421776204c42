"""The inviter the notifications worker runs: sends the invitations that are due (at once, or at
the time the coordinator chose) at a steady rate, so a roster of thousands is not mailed at once.

NOTIFY_INVITATIONS_PER_MINUTE (300) sets the rate; NOTIFY_INVITE_POLL_S (5) how often it looks.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading

from services.eventkit.config import env
from services.eventkit.envelope import utcnow
from services.eventkit.service import Runtime

from .app import invitations as sending
from .app.unit_of_work import Clock, UnitOfWork
from .app.waiting import NotReady
from .readmodels import invitations

log = logging.getLogger(__name__)


class Inviter:
    def __init__(
        self,
        runtime: Runtime,
        poll_s: float | None = None,
        per_minute: int | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.runtime = runtime
        self.clock = clock
        self.poll_s = poll_s if poll_s is not None else float(env("NOTIFY_INVITE_POLL_S", "5"))
        rate = (
            per_minute
            if per_minute is not None
            else int(env("NOTIFY_INVITATIONS_PER_MINUTE", "300"))
        )
        # Each round sends its share of the rate, at least one.
        self.per_round = max(1, math.floor(rate * self.poll_s / 60))

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("invitation round failed")  # the next round tries again
            stop.wait(self.poll_s)

    def run_once(self, now: dt.datetime | None = None) -> int:
        """Send up to one round's share of the invitations due at `now`; return how many."""
        now = now or self.clock()
        with self.runtime.reading() as conn:
            due = invitations.due(conn, now, self.per_round)
        return sum(self._send(enrollment_id, now) for enrollment_id in due)

    def _send(self, enrollment_id: str, now: dt.datetime) -> int:
        try:
            with self.runtime.engine.begin() as conn:
                return sending.send(
                    UnitOfWork(conn, self.runtime.store, lambda: now), enrollment_id
                )
        except NotReady:
            with self.runtime.engine.begin() as conn:
                invitations.postpone(conn, enrollment_id, now + sending.NOT_READY_DELAY)
            return 0


def inviter(runtime: Runtime, stop: threading.Event) -> None:
    """The worker's inviter loop (Service.background)."""
    Inviter(runtime).run(stop)
