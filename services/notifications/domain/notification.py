"""A notification: what one person is told about one thing, and how its mail went."""

from __future__ import annotations

import uuid
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError, NotFound

from . import messages
from .messages import Rendered

EMAIL, IN_APP, DIGEST, WEEKLY = "email", "in_app", "digest", "weekly"
DIGESTS = (DIGEST, WEEKLY)  # daily and weekly digests
QUEUED, SENT, KEPT, FAILED = "queued", "sent", "kept", "failed"  # KEPT: in the local outbox
# What stays of a password link's email once the SMTP server has it, and what its event says.
SECRET_SENT = "(Sent by email. The one-time link in it is not kept.)"
LINK_WITHHELD = "[the one-time link: in the email only, never kept in the record]"


def derived_id(key: str) -> str:
    """The id of what `key` names, the same every time: a repeat finds its stream written."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


def channel_for(kind: str, chosen: str | None) -> str:
    """Where a kind reaches a person: email for mandatory kinds, else what they chose."""
    if kind in messages.MANDATORY:
        return EMAIL
    return chosen or messages.DEFAULT_CHANNEL


def channels_for(channel: str, email: str) -> list[str]:
    """Every notice is in the in-app inbox; the chosen mail channel is added when there is an
    address to send it to."""
    return [IN_APP] + ([channel] if channel != IN_APP and email else [])


class Notification(Aggregate):
    stream_prefix = "notification"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.recipient_id = ""
        self.channels: list[str] = []
        self.read = False

    def queue(
        self,
        recipient_id: str,
        kind: str,
        rendered: Rendered,
        email: str,
        channels: list[str],
        source_event_id: str,
        calendar: str = "",
    ) -> None:
        """Queued once: a repeat (a replay, a timer firing again) finds it queued already.
        `calendar`: an iCalendar invitation the email carries."""
        if self.exists:
            raise DomainError("This notification is queued already.")
        self.record(
            "NotificationQueued",
            notification_id=self.id,
            recipient_id=recipient_id,
            kind=kind,
            subject=rendered.subject,
            body=rendered.text,
            html=rendered.html,
            email=email,
            channels=channels,
            source_event_id=source_event_id,
            **({"calendar": calendar} if calendar else {}),
        )

    def mark_read(self, recipient_id: str) -> None:
        """Only the recipient's in-app notices can be read; reading one again changes nothing."""
        if not self.exists or self.recipient_id != recipient_id or IN_APP not in self.channels:
            raise NotFound("No such notification.")
        if not self.read:
            self.record("NotificationRead", notification_id=self.id, recipient_id=recipient_id)

    def sent(self, channel: str, transport: str, attempts: int) -> None:
        self.record(
            "NotificationSent",
            notification_id=self.id,
            recipient_id=self.recipient_id,
            channel=channel,
            transport=transport,
            attempts=attempts,
        )

    def failed(self, channel: str, attempts: int, permanent: bool, error: str) -> None:
        self.record(
            "NotificationFailed",
            notification_id=self.id,
            recipient_id=self.recipient_id,
            channel=channel,
            attempts=attempts,
            permanent=permanent,
            error=error,
        )

    def when_notification_queued(self, p: dict[str, Any]) -> None:
        self.recipient_id = p["recipient_id"]
        self.channels = list(p["channels"])

    def when_notification_read(self, p: dict[str, Any]) -> None:
        self.read = True
