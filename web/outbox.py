"""One-time password links go out through the notifications service, which emails them (over SMTP,
or into its local mail when no SMTP server is configured; the development page /dev/outbox shows
that local mail). The web calls it as the system: the link is in no event, only in the email."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from urllib.parse import quote

from services.eventkit import config

from . import access_log
from .accounts import INVITE_TTL, RESET_TTL, SET, Accounts
from .client import Client, ServiceError

log = logging.getLogger(__name__)

SERVICE = "notifications"
TIMEOUT_S = 5.0


def public_url() -> str:
    """Where people reach the web; links in messages use it, never the request's Host header."""
    return config.env("WEB_PUBLIC_URL", f"http://127.0.0.1:{config.port('web')}").rstrip("/")


def password_link(token: str) -> str:
    return public_url() + "/password/reset/" + token


@dataclasses.dataclass(frozen=True)
class Message:
    id: str
    recipient: str
    subject: str
    body: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Recipient:
    """Whom a link is for: `name` and `institution_id` let the mail greet someone notifications
    has not heard of."""

    person_id: str
    email: str
    name: str = ""
    institution_id: str | None = None


def send_link(client: Client, recipient: Recipient, url: str, purpose: str) -> None:
    """Queue the person's set-password (`set`) or reset link for email; raises ServiceError."""
    ttl = INVITE_TTL if purpose == SET else RESET_TTL
    body = {
        "kind": purpose,
        "url": url,
        "email": recipient.email,
        "name": recipient.name,
        "institution_id": recipient.institution_id,
        "valid_hours": int(ttl.total_seconds() // 3600),
    }
    reply = client.request(
        SERVICE,
        "POST",
        f"/api/people/{quote(recipient.person_id, safe='')}/account-links",
        json=body,
        token=client.system_token(),
        timeout_s=TIMEOUT_S,
    )
    if reply.status != 202:
        raise ServiceError(SERVICE, f"HTTP {reply.status}")


def issue_and_send(
    client: Client, accounts: Accounts, recipient: Recipient, purpose: str
) -> tuple[str, ServiceError | None]:
    """A new one-time link for the person's account, and why it was not emailed (None if it was).
    The link goes back to the caller too, for the command that also prints it."""
    link = password_link(accounts.issue_link(recipient.person_id, purpose))
    access_log.record(
        client, access_log.PASSWORD_LINK, person_id=recipient.person_id, method=purpose
    )
    try:
        send_link(client, recipient, link, purpose)
    except ServiceError as exc:
        log.error("a password link could not be handed to notifications: %s", exc)
        return link, exc
    return link, None


def messages(client: Client, limit: int = 50) -> list[Message] | None:
    """The notifications service's local mail, newest first; None if it does not answer."""
    try:
        rows = client.request(
            SERVICE, "GET", "/api/local-mail", token=client.system_token(), timeout_s=TIMEOUT_S
        ).expect(SERVICE, list)
        return [
            Message(
                id=str(row["id"]),
                recipient=str(row["to_address"]),
                subject=str(row["subject"]),
                body=str(row["text_body"]),
                created_at=dt.datetime.fromisoformat(str(row["kept_at"])),
            )
            for row in rows[:limit]
        ]
    except (ServiceError, ValueError, KeyError, TypeError) as exc:
        log.warning("the local mail of notifications could not be read: %s", exc)
        return None
