"""Queueing a notice: render what one person is told, on the channels they chose, once."""

from __future__ import annotations

import dataclasses
from typing import Any

from services.eventkit import Envelope, Metadata
from services.eventkit.config import env, port
from services.eventkit.envelope import SYSTEM_ACTOR

from ..domain import messages
from ..domain.notification import Notification, channel_for, channels_for, derived_id
from ..readmodels import directory
from ..readmodels.inbox import chosen_channel
from .unit_of_work import UnitOfWork


@dataclasses.dataclass(frozen=True)
class Cause:
    """What a notice a timer queues is about: the event that set the timer."""

    event_id: str
    correlation_id: str
    institution_id: str | None = None


def web_link(path: str) -> str:
    """A link into the web app (WEB_PUBLIC_URL, as the web builds its own links); the page itself
    decides what the reader sees."""
    return env("WEB_PUBLIC_URL", f"http://127.0.0.1:{port('web')}").rstrip("/") + path


def queue(
    uow: UnitOfWork,
    cause: Envelope | Cause,
    recipient_id: str,
    kind: str,
    context: dict[str, Any],
    key: str | None = None,
    calendar: str = "",
) -> bool:
    """One notification per (cause, recipient, kind), or per `key` when given: its id is
    derived, so a repeat (a replay from the topics, a timer firing again) finds its stream
    already written and adds nothing. True if it was queued now. `calendar`: an iCalendar
    invitation its email carries."""
    notification = uow.load(
        Notification, derived_id(key or f"{cause.event_id}/{recipient_id}/{kind}")
    )
    if notification.exists:
        return False
    conn = uow.conn
    recipient = directory.person_or_partner(conn, recipient_id)
    institution_id = recipient["institution_id"] or cause.institution_id
    institution = directory.institution_context(conn, institution_id)
    rendered = messages.render(
        kind, {**context, "recipient": recipient, "institution": institution}
    )
    channel = channel_for(kind, chosen_channel(conn, recipient_id, kind))
    notification.queue(
        recipient_id,
        kind,
        rendered,
        recipient["email"],
        channels_for(channel, recipient["email"]),
        cause.event_id,
        calendar,
    )
    meta = Metadata(
        institution_id=institution_id,
        actor=dict(SYSTEM_ACTOR),
        correlation_id=cause.correlation_id,
        causation_id=cause.event_id,
    )
    uow.save(notification, meta)
    return True
