"""The loops the feedback worker runs (Service.background), each a round of a use case every
`interval_s` seconds: escalating concerns nobody acknowledged in time, issuing due surveys."""

from __future__ import annotations

import logging
import threading

from services.eventkit import Runtime
from services.eventkit.envelope import utcnow

from .app.concerns import escalate_due
from .app.survey_issuing import issue_due
from .app.unit_of_work import Clock

log = logging.getLogger(__name__)


def concern_deadlines(
    rt: Runtime, stop: threading.Event, interval_s: float = 60.0, clock: Clock = utcnow
) -> None:
    """Concerns nobody acknowledged within CONCERN_ACK_HOURS go to the consortium admin."""
    while not stop.wait(interval_s):
        try:
            escalated = escalate_due(rt, clock)
            if escalated:
                log.info("escalated %d unacknowledged concerns", len(escalated))
        except Exception:
            log.exception("concern deadlines: will try again")


def survey_issuer(
    rt: Runtime, stop: threading.Event, interval_s: float = 60.0, clock: Clock = utcnow
) -> None:
    """Scheduled surveys are issued when their month of the cycle comes."""
    while not stop.wait(interval_s):
        try:
            issued = issue_due(rt, clock)
            if issued:
                log.info("issued %d survey instances", len(issued))
        except Exception:
            log.exception("survey issuer: will try again")
