"""One-time set-password and reset links, emailed for the web."""

from __future__ import annotations

import dataclasses
import uuid

from services.eventkit import Metadata

from ..domain import messages
from ..domain.notification import EMAIL, LINK_WITHHELD, Notification
from ..readmodels import directory
from ..readmodels.tables import private_bodies
from .unit_of_work import UnitOfWork

DEFAULT_VALID_HOURS = {"set": 72, "reset": 1}


def _hours(hours: int) -> str:
    return "1 hour" if hours == 1 else f"{hours} hours"


def send_account_link(
    uow: UnitOfWork,
    person_id: str,
    link_kind: str,
    url: str,
    email: str,
    valid_hours: int | None,
    name: str,
    institution_id: str | None,
    meta: Metadata,
) -> str:
    """A set-password or reset link, by email only. The link goes into the email (and the delivery
    row that sends it), never into the event: the event says where it went instead."""
    notification = Notification(str(uuid.uuid4()))
    kind = messages.ACCOUNT_LINKS[link_kind]
    known = directory.person(uow.conn, person_id)
    recipient = {
        "id": person_id,
        "name": known["name"] if known else name,
        "email": email,
        "institution_id": known["institution_id"] if known else institution_id,
    }
    context = {
        "recipient": recipient,
        "institution": directory.institution_context(uow.conn, recipient["institution_id"]),
        "valid_for": _hours(valid_hours or DEFAULT_VALID_HOURS[link_kind]),
    }
    sent = messages.render(kind, {**context, "link": url})
    kept = messages.render(kind, {**context, "link": LINK_WITHHELD})
    assert url not in kept.text and url not in kept.subject
    uow.conn.execute(
        private_bodies.insert().values(
            notification_id=notification.id, text_body=sent.text, html_body=sent.html
        )
    )
    kept = dataclasses.replace(kept, html="")
    notification.queue(person_id, kind, kept, email, [EMAIL], meta.correlation_id)
    uow.save(notification, dataclasses.replace(meta, institution_id=recipient["institution_id"]))
    return notification.id
