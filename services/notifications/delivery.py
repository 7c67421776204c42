"""The sender loop the notifications worker runs: email over SMTP (or into the local outbox when no
server is configured), retries with exponential backoff, and daily and weekly digests.

Each delivery is claimed, sent, then recorded:

1. claim: one transaction bumps `attempts` and pushes `next_attempt_at` a lease ahead, guarded by
   the attempts it read, so two senders (scaled workers) never hold the same delivery;
2. send: the SMTP transaction, outside any database transaction;
3. record: one transaction that checks the delivery is still queued and appends NotificationSent,
   whose projection marks it sent. Once that commits the mail is never sent again.

A process that dies between 2 and 3 has sent a mail it did not record; when the lease runs out
that one delivery is due again and is sent a second time. That is the only duplicate possible,
and the Message-ID (derived from the notification id) lets mail clients fold it away.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import smtplib
import ssl
import threading
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr
from typing import Any

import sqlalchemy as sa

from services.eventkit import Metadata, NewEvent
from services.eventkit.config import env, env_int
from services.eventkit.envelope import utcnow
from services.eventkit.service import Runtime

from . import messages
from . import readmodels as rm

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "tls", "none")


@dataclasses.dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    username: str = ""
    password: str = ""
    security: str = "starttls"
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls) -> SmtpSettings | None:
        """None when SMTP_HOST is unset: mail is then kept in the local outbox."""
        host = env("SMTP_HOST", "")
        if not host:
            return None
        security = env("SMTP_SECURITY", "starttls").lower()
        if security not in SECURITY_MODES:
            raise ValueError(f"SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}")
        return cls(
            host=host,
            port=env_int("SMTP_PORT", 587),
            username=env("SMTP_USERNAME", ""),
            password=env("SMTP_PASSWORD", ""),
            security=security,
            timeout_s=float(env("SMTP_TIMEOUT_S", "30")),
        )


@dataclasses.dataclass(frozen=True)
class DeliverySettings:
    smtp: SmtpSettings | None
    sender: str = "Tandem <tandem@localhost>"
    retry_base_s: float = 30.0
    retry_max_s: float = 3600.0
    max_attempts: int = 8
    # How long a claimed delivery is held; longer than any SMTP exchange can take.
    claim_s: float = 300.0
    poll_s: float = 1.0

    @classmethod
    def from_env(cls) -> DeliverySettings:
        return cls(
            smtp=SmtpSettings.from_env(),
            sender=env("SMTP_FROM", cls.sender),
            retry_base_s=float(env("NOTIFY_RETRY_BASE_S", "30")),
            max_attempts=env_int("NOTIFY_MAX_ATTEMPTS", 8),
            claim_s=float(env("NOTIFY_CLAIM_S", "300")),
            poll_s=float(env("NOTIFY_POLL_S", "1")),
        )

    def backoff(self, attempts: int) -> dt.timedelta:
        """Wait after the `attempts`-th failure: base, doubling, capped."""
        seconds = min(self.retry_base_s * 2 ** max(attempts - 1, 0), self.retry_max_s)
        return dt.timedelta(seconds=seconds)


def transmit(smtp: SmtpSettings, message: EmailMessage) -> None:
    """One SMTP transaction. Raises smtplib / OSError exceptions as they come."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if smtp.security == "tls":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout_s, context=context)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_s)
    with client:
        if smtp.security == "starttls":
            client.starttls(context=context)
        if smtp.username:
            client.login(smtp.username, smtp.password)
        client.send_message(message)


def is_permanent(exc: BaseException) -> bool:
    """A 5xx about this message or recipient will not change by retrying; anything else might
    (connection refused, timeouts, 4xx, and authentication, which an operator can fix)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return False
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return 500 <= exc.smtp_code < 600
    return False


def compose(
    settings: DeliverySettings, message_id: str, to: str, subject: str, text: str, html: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "tandem"
    message["Message-ID"] = f"<{message_id}@{domain}>"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


@dataclasses.dataclass(frozen=True)
class Claimed:
    row: Any  # the deliveries or digests row as read
    attempts: int  # including this one


class Sender:
    def __init__(self, runtime: Runtime, settings: DeliverySettings | None = None) -> None:
        self.runtime = runtime
        self.engine = runtime.engine
        self.store = runtime.store
        self.settings = settings or DeliverySettings.from_env()

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
        """Send what is due now; return how many deliveries and digests were handled."""
        now = now or utcnow()
        handled = 0
        for key in self._due_emails(now):
            claimed = self._claim_email(key, now)
            if claimed is not None:
                self._send_email(claimed)
                handled += 1
        for recipient_id, channel in self._due_digests(now):
            claimed = self._claim_digest(recipient_id, channel, now)
            if claimed is not None:
                self._send_digest(claimed, now)
                handled += 1
        return handled

    # --- single emails -----------------------------------------------------------------------

    def _due_emails(self, now: dt.datetime, limit: int = 100) -> list[tuple[str, str]]:
        d = rm.deliveries
        with self.runtime.reading() as conn:
            rows = conn.execute(
                sa.select(d.c.notification_id, d.c.channel)
                .where((d.c.channel == rm.EMAIL) & (d.c.state == rm.QUEUED))
                .where(d.c.next_attempt_at <= now)
                .order_by(d.c.next_attempt_at)
                .limit(limit)
            ).all()
        return [(r.notification_id, r.channel) for r in rows]

    def _claim_email(self, key: tuple[str, str], now: dt.datetime) -> Claimed | None:
        d = rm.deliveries
        match = (d.c.notification_id == key[0]) & (d.c.channel == key[1])
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(d).where(match & (d.c.state == rm.QUEUED) & (d.c.next_attempt_at <= now))
            ).first()
            if row is None:
                return None
            taken = conn.execute(
                d.update()
                .where(match & (d.c.state == rm.QUEUED) & (d.c.attempts == row.attempts))
                .values(
                    attempts=row.attempts + 1,
                    next_attempt_at=now + dt.timedelta(seconds=self.settings.claim_s),
                )
            ).rowcount
        return Claimed(row, row.attempts + 1) if taken == 1 else None

    def _send_email(self, claimed: Claimed) -> None:
        row = claimed.row
        smtp = self.settings.smtp
        if smtp is not None:
            message = compose(
                self.settings,
                f"{row.notification_id}.{row.channel}",
                formataddr(("", row.to_address)),
                row.subject,
                row.text_body,
                row.html_body,
            )
            try:
                transmit(smtp, message)
            except Exception as exc:
                self._email_failed(claimed, exc)
                return
        self._record(
            row,
            "NotificationSent",
            {
                "notification_id": row.notification_id,
                "recipient_id": row.recipient_id,
                "channel": row.channel,
                "transport": "smtp" if smtp else "local",
                "attempts": claimed.attempts,
            },
        )

    def _email_failed(self, claimed: Claimed, exc: Exception) -> None:
        row, error = claimed.row, f"{type(exc).__name__}: {exc}"[:2000]
        permanent = is_permanent(exc)
        if permanent or claimed.attempts >= self.settings.max_attempts:
            log.warning("giving up on %s to %s: %s", row.notification_id, row.to_address, error)
            self._record(
                row,
                "NotificationFailed",
                {
                    "notification_id": row.notification_id,
                    "recipient_id": row.recipient_id,
                    "channel": row.channel,
                    "attempts": claimed.attempts,
                    "permanent": permanent,
                    "error": error,
                },
            )
            return
        retry_at = utcnow() + self.settings.backoff(claimed.attempts)
        log.info("mail %s failed (attempt %d), retry at %s: %s", row.notification_id,
                 claimed.attempts, retry_at.isoformat(), error)  # fmt: skip
        d = rm.deliveries
        with self.engine.begin() as conn:
            conn.execute(
                d.update()
                .where(
                    (d.c.notification_id == row.notification_id)
                    & (d.c.channel == row.channel)
                    & (d.c.state == rm.QUEUED)
                )
                .values(next_attempt_at=retry_at, last_error=error)
            )

    def _record(self, row: Any, event_type: str, payload: dict[str, Any]) -> None:
        """The outcome event, once: only while the delivery is still queued."""
        d = rm.deliveries
        with self.engine.begin() as conn:
            # The update takes the row lock (PostgreSQL) so a concurrent recorder waits, then
            # finds the state changed and records nothing.
            still_queued = conn.execute(
                d.update()
                .where(
                    (d.c.notification_id == row.notification_id)
                    & (d.c.channel == row.channel)
                    & (d.c.state == rm.QUEUED)
                )
                .values(last_error=None)
            ).rowcount
            if still_queued != 1:
                return
            self.store.append(
                conn,
                f"notification-{row.notification_id}",
                [NewEvent(event_type, payload)],
                expected_version=None,
                meta=Metadata(institution_id=row.institution_id),
            )

    # --- digests -------------------------------------------------------------------------------

    def _due_digests(self, now: dt.datetime) -> list[tuple[str, str]]:
        g = rm.digests
        with self.runtime.reading() as conn:
            rows = conn.execute(
                sa.select(g.c.recipient_id, g.c.channel)
                .where(g.c.next_run_at <= now)
                .order_by(g.c.next_run_at)
            ).all()
        return [(r.recipient_id, r.channel) for r in rows]

    def _claim_digest(self, recipient_id: str, channel: str, now: dt.datetime) -> Claimed | None:
        g = rm.digests
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

    def _send_digest(self, claimed: Claimed, now: dt.datetime) -> None:
        recipient_id, channel = claimed.row.recipient_id, claimed.row.channel
        d, g = rm.deliveries, rm.digests
        this_digest = (g.c.recipient_id == recipient_id) & (g.c.channel == channel)
        with self.runtime.reading() as conn:
            items = conn.execute(
                sa.select(d)
                .where((d.c.recipient_id == recipient_id) & (d.c.channel == channel))
                .where((d.c.state == rm.QUEUED) & (d.c.created_at <= now))
                .order_by(d.c.created_at, d.c.notification_id)
            ).all()
            person = conn.execute(
                sa.select(rm.recipients).where(rm.recipients.c.id == recipient_id)
            ).first()
            institution = rm.institution_context(conn, items[-1].institution_id if items else None)
        if not items:
            with self.engine.begin() as conn:
                conn.execute(g.delete().where(this_digest))
            return
        to_address = items[-1].to_address
        recipient = {"id": recipient_id, "name": person.name if person else "", "email": to_address}
        context = {
            "recipient": recipient,
            "institution": institution,
            "items": items,
            "weekly": channel == rm.WEEKLY,
        }
        rendered = messages.render("digest", context)
        ids = [item.notification_id for item in items]
        # Daily digests keep the ids they always had; weekly ones differ by their channel.
        prefix = "digest" if channel == rm.DIGEST else f"digest/{channel}"
        digest_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{prefix}/{recipient_id}/{'/'.join(ids)}"))
        smtp = self.settings.smtp
        if smtp is not None:
            message = compose(
                self.settings, digest_id, to_address, rendered.subject, rendered.text, rendered.html
            )
            try:
                transmit(smtp, message)
            except Exception as exc:
                self._digest_failed(claimed, items, exc)
                return
        with self.engine.begin() as conn:
            ours = conn.execute(
                g.update()
                .where(this_digest & (g.c.attempts == claimed.attempts))
                .values(last_error=None)
            ).rowcount
            if ours != 1:
                return  # another sender took it over after our lease ran out
            self.store.append(
                conn,
                f"digest-{digest_id}",
                [
                    NewEvent(
                        "DigestSent",
                        {
                            "digest_id": digest_id,
                            "recipient_id": recipient_id,
                            "channel": channel,
                            "notification_ids": ids,
                            "transport": "smtp" if smtp else "local",
                            "to_address": to_address,
                            "subject": rendered.subject,
                            "body": rendered.text,
                            "html": rendered.html,
                        },
                    )
                ],
                expected_version=0,
                meta=Metadata(institution_id=items[-1].institution_id),
            )

    def _digest_failed(self, claimed: Claimed, items: list[Any], exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        permanent = is_permanent(exc)
        recipient_id, channel = claimed.row.recipient_id, claimed.row.channel
        g = rm.digests
        this_digest = (g.c.recipient_id == recipient_id) & (g.c.channel == channel)
        if permanent or claimed.attempts >= self.settings.max_attempts:
            for item in items:
                self._record(
                    item,
                    "NotificationFailed",
                    {
                        "notification_id": item.notification_id,
                        "recipient_id": recipient_id,
                        "channel": channel,
                        "attempts": claimed.attempts,
                        "permanent": permanent,
                        "error": error,
                    },
                )
            with self.engine.begin() as conn:
                conn.execute(g.delete().where(this_digest))
            return
        with self.engine.begin() as conn:
            conn.execute(
                g.update()
                .where(this_digest & (g.c.attempts == claimed.attempts))
                .values(
                    next_run_at=utcnow() + self.settings.backoff(claimed.attempts),
                    last_error=error,
                )
            )


def sender(runtime: Runtime, stop: threading.Event) -> None:
    """The worker's sender loop (Service.background)."""
    Sender(runtime).run(stop)
