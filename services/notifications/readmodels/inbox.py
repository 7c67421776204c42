"""The in-app inbox and each person's preferences, projected from notifications' own events."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Envelope, Projection

from ..domain.notification import IN_APP
from .tables import notifications, preferences

in_app = Projection("in_app_inbox", tables=[notifications])


@in_app.on("NotificationQueued")
def _queued(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    if IN_APP not in p["channels"]:
        return  # email only (password links)
    conn.execute(
        notifications.insert().values(
            id=p["notification_id"],
            recipient_id=p["recipient_id"],
            kind=p["kind"],
            subject=p["subject"],
            body=p["body"],
            created_at=e.to_dict()["occurred_at"],
            read=False,
        )
    )


@in_app.on("NotificationRead")
def _read(conn: sa.Connection, e: Envelope) -> None:
    n = notifications
    conn.execute(n.update().where(n.c.id == e.payload["notification_id"]).values(read=True))


settings = Projection("preferences", tables=[preferences])


@settings.on("NotificationPreferencesSet")
def _preferences(conn: sa.Connection, e: Envelope) -> None:
    person_id = e.payload["person_id"]
    for kind, channel in e.payload["preferences"].items():
        key = (preferences.c.person_id == person_id) & (preferences.c.kind == kind)
        if conn.execute(preferences.update().where(key).values(channel=channel)).rowcount == 0:
            conn.execute(
                preferences.insert().values(person_id=person_id, kind=kind, channel=channel)
            )


def chosen_channel(conn: sa.Connection, person_id: str, kind: str) -> str | None:
    """The channel the person chose for this kind, if they chose one."""
    return conn.execute(
        sa.select(preferences.c.channel).where(
            (preferences.c.person_id == person_id) & (preferences.c.kind == kind)
        )
    ).scalar()
