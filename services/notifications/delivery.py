"""The sender loop the notifications worker runs: email over SMTP (or into the local outbox when no
server is configured), retries with exponential backoff, and daily and weekly digests.

Each delivery is claimed, sent, then recorded:

1. claim: one transaction bumps `attempts` and pushes `next_attempt_at` a lease ahead, guarded by
   the attempts it read, so two senders (scaled workers) never hold the same delivery;
2. send: the SMTP transaction, outside any database transaction;
3. record: one transaction that checks the delivery is still queued and appends NotificationSent,
   whose projection marks it sent. Once that commits the mail is never sent again. Mails that
   went are recorded together, up to RECORD_BATCH at a time and before a quarter of the lease
   has passed; a failure is recorded at once.

A process that dies between 2 and 3 has sent mails it did not record (at most a batch); when the
lease runs out those deliveries are due again and are sent a second time. That is the only
duplicate possible, and the Message-ID (derived from the notification id) lets mail clients fold
it away.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from email.utils import formataddr
from typing import Any

import sqlalchemy as sa

from services.eventkit.envelope import utcnow
from services.eventkit.metrics import EMAILS
from services.eventkit.service import Runtime

from .app import mail
from .app.unit_of_work import Clock, UnitOfWork
from .domain import messages
from .domain.digest import digest_id_for
from .domain.notification import EMAIL, QUEUED, WEEKLY
from .readmodels import directory
from .readmodels.mail import queued
from .readmodels.tables import deliveries, digests
from .smtp import DeliverySettings, SmtpSettings, compose, is_permanent, transmit

__all__ = ["DeliverySettings", "Sender", "SmtpSettings", "sender", "transmit"]

log = logging.getLogger(__name__)


# Mails sent before their outcomes are recorded together, in one transaction: the database's
# work per mail, not the SMTP exchange, bounds a large send (a roster's welcome mails).
RECORD_BATCH = 25


@dataclasses.dataclass(frozen=True)
class Claimed:
    row: Any  # the deliveries or digests row as read
    attempts: int  # including this one
    at: float = dataclasses.field(default_factory=time.monotonic)  # when it was claimed


def loggable(exc: Exception) -> str:
    """What a log may say of a failed send: the error's kind and SMTP code. Its text can name
    the recipient (a refused address), so that stays in the delivery row, out of the logs."""
    code = getattr(exc, "smtp_code", None)
    return f"{type(exc).__name__}" + (f" (SMTP {code})" if code else "")


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


class Sender:
    def __init__(
        self, runtime: Runtime, settings: DeliverySettings | None = None, clock: Clock = utcnow
    ) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.settings = settings or DeliverySettings.from_env()
        self.clock = clock

    @property
    def transport(self) -> str:
        return "smtp" if self.settings.smtp else "local"

    # --- loop ------------------------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        if self.settings.smtp is None:
            log.info("SMTP_HOST is not set: mail is kept in the local outbox")
        while not stop.is_set():
            try:
                busy = self.run_once()
            except Exception:
                # A database outage must not end the worker; the next round tries again.
                log.exception("sender round failed")
                busy = 0
            if not busy:
                stop.wait(self.settings.poll_s)

    def run_once(self, now: dt.datetime | None = None) -> int:
        """Send what is due `now` (the clock's time if not given); return how many deliveries and
        digests were handled."""
        now = now or self.clock()
        handled = 0
        sent: list[Claimed] = []  # transmitted, their outcome not recorded yet
        try:
            for key in self._due_emails(now):
                if sent and (len(sent) >= RECORD_BATCH or self._held_long(sent[0])):
                    self._record_sent(sent)
                    sent = []
                claimed = self._claim_email(key, now)
                if claimed is not None:
                    if self._send_email(claimed):
                        sent.append(claimed)
                    handled += 1
        finally:  # whatever stopped the round, what went is recorded
            self._record_sent(sent)
        for recipient_id, channel in self._due_digests(now):
            claimed = self._claim_digest(recipient_id, channel, now)
            if claimed is not None:
                self._send_digest(claimed, now)
                handled += 1
        return handled

    def _record(self, use_case: Callable[[UnitOfWork], None]) -> None:
        with self.engine.begin() as conn:
            use_case(UnitOfWork(conn, self.runtime.store, self.clock))

    def _transmit(
        self, message_id: str, to: str, subject: str, text: str, html: str, calendar: str = ""
    ) -> None:
        """Hand the mail to the SMTP server; with none configured it is kept locally instead,
        when its outcome is recorded."""
        if self.settings.smtp is not None:
            message = compose(
                self.settings, message_id, to, subject, text, html, self.clock(), calendar
            )
            transmit(self.settings.smtp, message)

    # --- single emails -----------------------------------------------------------------------

    def _due_emails(self, now: dt.datetime, limit: int = 100) -> list[tuple[str, str]]:
        d = deliveries
        with self.runtime.reading() as conn:
            rows = conn.execute(
                sa.select(d.c.notification_id, d.c.channel)
                .where((d.c.channel == EMAIL) & (d.c.state == QUEUED))
                .where(d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at)
                .limit(limit)
            ).all()
        return [(r.notification_id, r.channel) for r in rows]

    def _claim_email(self, key: tuple[str, str], now: dt.datetime) -> Claimed | None:
        d = deliveries
        match = (d.c.notification_id == key[0]) & (d.c.channel == key[1])
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(d).where(match & (d.c.state == QUEUED) & (d.c.next_attempt_at <= now))
            ).first()
            if row is None:
                return None
            taken = conn.execute(
                d.update()
                .where(match & (d.c.state == QUEUED) & (d.c.attempts == row.attempts))
                .values(
                    attempts=row.attempts + 1,
                    next_attempt_at=now + dt.timedelta(seconds=self.settings.claim_s),
                )
            ).rowcount
        return Claimed(row, row.attempts + 1) if taken == 1 else None

    def _held_long(self, claimed: Claimed) -> bool:
        """Whether a mail sent but not recorded has held its claim for a quarter of the lease:
        its outcome is recorded before another SMTP exchange (which may take its timeout), well
        before the lease runs out and another sender would take it up again."""
        return time.monotonic() - claimed.at > self.settings.claim_s / 4

    def _send_email(self, claimed: Claimed) -> bool:
        """Transmit a claimed mail; True if it went (its outcome is recorded with the batch), else
        its failure is recorded now."""
        row = claimed.row
        try:
            self._transmit(
                f"{row.notification_id}.{row.channel}",
                formataddr(("", row.to_address)),
                row.subject,
                row.text_body,
                row.html_body,
                row.calendar or "",
            )
        except Exception as exc:
            self._email_failed(claimed, exc)
            return False
        return True

    def _record_sent(self, sent: list[Claimed]) -> None:
        """Record that these mails went: together, or one by one if the batch is refused (one
        of them changed meanwhile), so no mail that went is left unrecorded for that."""
        if not sent:
            return
        outcomes = [(c.row, self.transport, c.attempts) for c in sent]
        try:
            self._record(lambda uow: mail.record_all_sent(uow, outcomes))
        except Exception:
            log.warning("recording %d sent mails together failed; one by one", len(sent))
            for row, transport, attempts in outcomes:
                self._record(
                    lambda uow, r=row, t=transport, a=attempts: mail.record_sent(uow, r, t, a)
                )
        EMAILS.labels("email", "sent").inc(len(sent))

    def _email_failed(self, claimed: Claimed, exc: Exception) -> None:
        row, error = claimed.row, _error(exc)
        permanent = is_permanent(exc)
        if permanent or claimed.attempts >= self.settings.max_attempts:
            log.warning("giving up on mail %s: %s", row.notification_id, loggable(exc))
            self._record(
                lambda uow: mail.record_failed(uow, row, claimed.attempts, permanent, error)
            )
            EMAILS.labels("email", "failed").inc()
            return
        EMAILS.labels("email", "retried").inc()
        retry_at = self.clock() + self.settings.backoff(claimed.attempts)
        log.info("mail %s failed (attempt %d), retry at %s: %s", row.notification_id,
                 claimed.attempts, retry_at.isoformat(), loggable(exc))  # fmt: skip
        retry = deliveries.update().where(queued(row))
        with self.engine.begin() as conn:
            conn.execute(retry.values(next_attempt_at=retry_at, last_error=error))

    # --- digests -------------------------------------------------------------------------------

    def _due_digests(self, now: dt.datetime) -> list[tuple[str, str]]:
        g = digests
        with self.runtime.reading() as conn:
            rows = conn.execute(
                sa.select(g.c.recipient_id, g.c.channel)
                .where(g.c.next_run_at <= now)
                .order_by(g.c.next_run_at)
            ).all()
        return [(r.recipient_id, r.channel) for r in rows]

    def _claim_digest(self, recipient_id: str, channel: str, now: dt.datetime) -> Claimed | None:
        g = digests
        match = (g.c.recipient_id == recipient_id) & (g.c.channel == channel)
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(g).where(match & (g.c.next_run_at <= now))).first()
            if row is None:
                return None
            taken = conn.execute(
                g.update()
                .where(match & (g.c.attempts == row.attempts))
                .values(
                    attempts=row.attempts + 1,
                    next_run_at=now + dt.timedelta(seconds=self.settings.claim_s),
                )
            ).rowcount
        return Claimed(row, row.attempts + 1) if taken == 1 else None

    def _this_digest(self, claimed: Claimed) -> Any:
        g = digests
        return (g.c.recipient_id == claimed.row.recipient_id) & (g.c.channel == claimed.row.channel)

    def _send_digest(self, claimed: Claimed, now: dt.datetime) -> None:
        recipient_id, channel = claimed.row.recipient_id, claimed.row.channel
        d = deliveries
        with self.runtime.reading() as conn:
            items = conn.execute(
                sa.select(d)
                .where((d.c.recipient_id == recipient_id) & (d.c.channel == channel))
                .where((d.c.state == QUEUED) & (d.c.created_at <= now))
                .order_by(d.c.created_at, d.c.notification_id)
            ).all()
            person = directory.person(conn, recipient_id)
            institution = directory.institution_context(
                conn, items[-1].institution_id if items else None
            )
        if not items:
            with self.engine.begin() as conn:
                conn.execute(digests.delete().where(self._this_digest(claimed)))
            return
        to_address = items[-1].to_address
        recipient = {
            "id": recipient_id,
            "name": person["name"] if person else "",
            "email": to_address,
        }
        context = {
            "recipient": recipient,
            "institution": institution,
            "items": items,
            "weekly": channel == WEEKLY,
        }
        rendered = messages.render("digest", context)
        digest_id = digest_id_for(recipient_id, channel, [item.notification_id for item in items])
        try:
            self._transmit(digest_id, to_address, rendered.subject, rendered.text, rendered.html)
        except Exception as exc:
            self._digest_failed(claimed, items, exc)
            return
        self._record(
            lambda uow: mail.record_digest(uow, digest_id, claimed, items, self.transport, rendered)
        )
        EMAILS.labels("digest", "sent").inc()

    def _digest_failed(self, claimed: Claimed, items: list[Any], exc: Exception) -> None:
        error, permanent = _error(exc), is_permanent(exc)
        this_digest = self._this_digest(claimed)
        if permanent or claimed.attempts >= self.settings.max_attempts:
            for item in items:
                self._record(
                    lambda uow, item=item: mail.record_failed(
                        uow, item, claimed.attempts, permanent, error
                    )
                )
            with self.engine.begin() as conn:
                conn.execute(digests.delete().where(this_digest))
            EMAILS.labels("digest", "failed").inc()
            return
        EMAILS.labels("digest", "retried").inc()
        with self.engine.begin() as conn:
            conn.execute(
                digests.update()
                .where(this_digest & (digests.c.attempts == claimed.attempts))
                .values(
                    next_run_at=self.clock() + self.settings.backoff(claimed.attempts),
                    last_error=error,
                )
            )


def sender(runtime: Runtime, stop: threading.Event) -> None:
    """The worker's sender loop (Service.background)."""
    Sender(runtime).run(stop)
