"""Mail: what each email and digest holds and how its delivery went, projected from notifications'
own events, with the local outbox (mail kept when no SMTP server is configured) and the digests
due next."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope, Projection

from ..domain import schedule
from ..domain.notification import DIGESTS, EMAIL, FAILED, KEPT, QUEUED, SECRET_SENT, SENT, WEEKLY
from .directory import time_zone_of
from .tables import deliveries, digests, local_mail, private_bodies

mail = Projection("mail", tables=[deliveries, local_mail, digests])


@mail.on("NotificationQueued")
def _mail_queued(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    private = conn.execute(
        sa.select(private_bodies).where(private_bodies.c.notification_id == p["notification_id"])
    ).first()
    text, html = (private.text_body, private.html_body) if private else (p["body"], p["html"])
    for channel in (c for c in p["channels"] if c in (EMAIL, *DIGESTS)):
        conn.execute(
            deliveries.insert().values(
                notification_id=p["notification_id"],
                channel=channel,
                recipient_id=p["recipient_id"],
                institution_id=e.institution_id,
                kind=p["kind"],
                to_address=p["email"],
                subject=p["subject"],
                text_body=text,
                html_body=html,
                calendar=p.get("calendar") or None,
                state=QUEUED,
                attempts=0,
                # Digest items wait for their digest; email is due at once.
                next_attempt_at=e.occurred_at if channel == EMAIL else None,
                created_at=e.occurred_at,
            )
        )
        if channel in DIGESTS:
            _schedule_digest(conn, p["recipient_id"], channel, e.occurred_at)


@mail.on("NotificationSent")
def _mail_sent(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    local = p["transport"] == "local"
    key = (deliveries.c.notification_id == p["notification_id"]) & (
        deliveries.c.channel == p["channel"]
    )
    conn.execute(
        deliveries.update()
        .where(key)
        .values(
            state=KEPT if local else SENT,
            attempts=p["attempts"],
            next_attempt_at=None,
            finished_at=e.occurred_at,
        )
    )
    if local:
        row = conn.execute(sa.select(deliveries).where(key)).one()
        _keep(conn, p["notification_id"], row.recipient_id, row._mapping, e.occurred_at)
    elif conn.execute(
        private_bodies.delete().where(private_bodies.c.notification_id == p["notification_id"])
    ).rowcount:
        # Handed to the SMTP server: the one-time link is kept nowhere any more.
        conn.execute(deliveries.update().where(key).values(text_body=SECRET_SENT, html_body=""))


@mail.on("NotificationFailed")
def _mail_failed(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        deliveries.update()
        .where(
            (deliveries.c.notification_id == p["notification_id"])
            & (deliveries.c.channel == p["channel"])
        )
        .values(
            state=FAILED,
            attempts=p["attempts"],
            next_attempt_at=None,
            last_error=p["error"],
            finished_at=e.occurred_at,
        )
    )


@mail.on("DigestSent")
def _digest_sent(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    local, channel = p["transport"] == "local", p["channel"]
    conn.execute(
        deliveries.update()
        .where(
            deliveries.c.notification_id.in_(p["notification_ids"])
            & (deliveries.c.channel == channel)
        )
        .values(state=KEPT if local else SENT, next_attempt_at=None, finished_at=e.occurred_at)
    )
    if local:
        content = {
            "to_address": p["to_address"],
            "subject": p["subject"],
            "text_body": p["body"],
            "html_body": p["html"],
        }
        _keep(conn, p["digest_id"], p["recipient_id"], content, e.occurred_at)
    mine = (digests.c.recipient_id == p["recipient_id"]) & (digests.c.channel == channel)
    conn.execute(digests.delete().where(mine))
    # Items queued while this digest was being sent wait for the next one.
    waiting = conn.execute(
        sa.select(sa.func.min(deliveries.c.created_at)).where(
            (deliveries.c.recipient_id == p["recipient_id"])
            & (deliveries.c.channel == channel)
            & (deliveries.c.state == QUEUED)
        )
    ).scalar()
    if waiting is not None:
        _schedule_digest(conn, p["recipient_id"], channel, e.occurred_at)


def _keep(
    conn: sa.Connection, mail_id: str, recipient_id: str, content: Any, at: dt.datetime
) -> None:
    conn.execute(
        local_mail.insert().values(
            id=mail_id,
            recipient_id=recipient_id,
            to_address=content["to_address"],
            subject=content["subject"],
            text_body=content["text_body"],
            html_body=content["html_body"],
            kept_at=at,
        )
    )


def _schedule_digest(
    conn: sa.Connection, recipient_id: str, channel: str, after: dt.datetime
) -> None:
    """The person's next daily (or, for `weekly`, Monday's) digest at DIGEST_HOUR local time after
    `after`, unless one is set."""
    exists = conn.execute(
        sa.select(digests.c.recipient_id).where(
            (digests.c.recipient_id == recipient_id) & (digests.c.channel == channel)
        )
    ).first()
    if exists:
        return
    conn.execute(
        digests.insert().values(
            recipient_id=recipient_id,
            channel=channel,
            next_run_at=schedule.next_digest_time(
                after, time_zone_of(conn, recipient_id), weekly=channel == WEEKLY
            ),
            attempts=0,
        )
    )


def queued(delivery: Any) -> sa.ColumnElement[bool]:
    """The delivery's row, while it is still queued."""
    d = deliveries
    return (
        (d.c.notification_id == delivery.notification_id)
        & (d.c.channel == delivery.channel)
        & (d.c.state == QUEUED)
    )
