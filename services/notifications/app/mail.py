"""How a mail went, recorded once: the sender's use cases after each SMTP exchange."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from services.eventkit import Metadata

from ..domain.digest import Digest
from ..domain.messages import Rendered
from ..domain.notification import Notification
from ..readmodels.mail import queued
from ..readmodels.tables import deliveries, digests
from .unit_of_work import UnitOfWork


def _still_queued(conn: sa.Connection, delivery: Any) -> bool:
    """Takes the delivery's row lock (PostgreSQL) so a concurrent recorder waits, then finds the
    state changed and records nothing."""
    still = deliveries.update().where(queued(delivery)).values(last_error=None)
    return conn.execute(still).rowcount == 1


def _record(uow: UnitOfWork, delivery: Any, outcome: Callable[[Notification], None]) -> None:
    """The delivery's outcome event, once: only while it is still queued."""
    if _still_queued(uow.conn, delivery):
        notification = uow.load(Notification, delivery.notification_id)
        outcome(notification)
        meta = Metadata(institution_id=delivery.institution_id)
        uow.save(notification, meta, check_version=False)


def record_sent(uow: UnitOfWork, delivery: Any, transport: str, attempts: int) -> None:
    _record(uow, delivery, lambda n: n.sent(delivery.channel, transport, attempts))


def record_all_sent(uow: UnitOfWork, sent: Sequence[tuple[Any, str, int]]) -> None:
    """NotificationSent for each (delivery, transport, attempts) still queued, appended
    together: one append per institution rather than a transaction per mail. Each notification
    is appended at the version just loaded, so a concurrent change to one refuses the whole
    batch (the caller then records them one by one)."""
    by_institution: dict[str | None, list[Notification]] = {}
    for delivery, transport, attempts in sent:
        if _still_queued(uow.conn, delivery):
            notification = uow.load(Notification, delivery.notification_id)
            notification.sent(delivery.channel, transport, attempts)
            by_institution.setdefault(delivery.institution_id, []).append(notification)
    for institution_id, notifications in by_institution.items():
        uow.save_all(notifications, Metadata(institution_id=institution_id))


def record_failed(
    uow: UnitOfWork, delivery: Any, attempts: int, permanent: bool, error: str
) -> None:
    _record(uow, delivery, lambda n: n.failed(delivery.channel, attempts, permanent, error))


def record_digest(
    uow: UnitOfWork,
    digest_id: str,
    claimed: Any,
    items: list[Any],
    transport: str,
    rendered: Rendered,
) -> None:
    """The digest's DigestSent, unless another sender took the digest over after this one's
    lease ran out (its claim, the attempts it counted, is no longer the row's)."""
    g = digests
    ours = uow.conn.execute(
        g.update()
        .where(
            (g.c.recipient_id == claimed.row.recipient_id)
            & (g.c.channel == claimed.row.channel)
            & (g.c.attempts == claimed.attempts)
        )
        .values(last_error=None)
    ).rowcount
    if ours != 1:
        return
    digest = uow.load(Digest, digest_id)
    digest.send(
        claimed.row.recipient_id,
        claimed.row.channel,
        [item.notification_id for item in items],
        transport,
        items[-1].to_address,
        rendered,
    )
    uow.save(digest, Metadata(institution_id=items[-1].institution_id))
