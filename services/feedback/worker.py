"""The loops the feedback worker runs (Service.background), each a round of a use case every
`interval_s` seconds: escalating concerns nobody acknowledged in time, issuing due surveys."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from services.eventkit import Runtime
from services.eventkit.envelope import utcnow

from .app.concerns import escalate_due
from .app.survey_issuing import issue_due
from .app.unit_of_work import Clock

log = logging.getLogger(__name__)


def _every(
    interval_s: float, stop: threading.Event, name: str, round_: Callable[[], list[str]], done: str
) -> None:
    """Run `round_` every `interval_s` until `stop`; an outage only costs that round."""
    while not stop.wait(interval_s):
        try:
            ids = round_()
            if ids:
                log.info(done, len(ids))
        except Exception:
            log.exception("%s: will try again", name)


def concern_deadlines(
    rt: Runtime, stop: threading.Event, interval_s: float = 60.0, clock: Clock = utcnow
) -> None:
    """Concerns nobody acknowledged within CONCERN_ACK_HOURS go to the consortium admin."""
    _every(
        interval_s, stop, "concern deadlines", lambda: escalate_due(rt, clock),
        "escalated %d unacknowledged concerns",
    )  # fmt: skip


def survey_issuer(
    rt: Runtime, stop: threading.Event, interval_s: float = 60.0, clock: Clock = utcnow
) -> None:
    """Scheduled surveys are issued when their month of the cycle comes."""
    _every(
        interval_s, stop, "survey issuer", lambda: issue_due(rt, clock),
        "issued %d survey instances",
    )  # fmt: skip
