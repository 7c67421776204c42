"""Mail settings and the SMTP exchange itself: one message, one transaction with the server."""

from __future__ import annotations

import dataclasses
import datetime as dt
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from services.eventkit.config import env, env_int

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
    settings: DeliverySettings,
    message_id: str,
    to: str,
    subject: str,
    text: str,
    html: str,
    date: dt.datetime,
    calendar: str = "",
) -> EmailMessage:
    """The message; with `calendar`, an iCalendar invitation (.ics, its METHOD on the part) that
    mail clients offer to add to the calendar."""
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date)
    domain = parseaddr(settings.sender)[1].rpartition("@")[2] or "tandem"
    message["Message-ID"] = f"<{message_id}@{domain}>"
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    if calendar:
        method = next(
            (line[7:] for line in calendar.splitlines() if line.startswith("METHOD:")), "REQUEST"
        )
        message.add_attachment(
            calendar.encode(), maintype="text", subtype="calendar", filename="invite.ics",
            params={"method": method, "charset": "utf-8"},
        )  # fmt: skip
    return message
