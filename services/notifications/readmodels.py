"""Notifications' read models and its reactions to enrollment events."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from services.eventkit import (
    Envelope,
    EventStore,
    Metadata,
    NewEvent,
    Projection,
    define_kit_tables,
)
from services.eventkit.config import topic
from services.eventkit.contracts.notifications import registry

metadata = sa.MetaData()
kit = define_kit_tables(metadata)

recipients = sa.Table(
    "recipients",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=False),
)
programs = sa.Table(
    "programs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("guidelines", sa.Text, nullable=False),
)
notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("recipient_id", sa.String(36), nullable=False, index=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("read", sa.Boolean, nullable=False, default=False),
)

in_app = Projection("in_app_inbox", tables=[notifications])


@in_app.on("NotificationQueued")
def _queued(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
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


store = EventStore(kit, registry, topic("notifications"), [in_app])
reactions = Projection("reactions", tables=[recipients, programs], topics=[topic("enrollment")])


@reactions.on("PersonRegistered")
def _person(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        recipients.insert().values(
            id=p["person_id"], institution_id=p["institution_id"], name=p["name"], email=p["email"]
        )
    )


@reactions.on("ProgramCreated")
def _program(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        programs.insert().values(id=p["program_id"], name=p["name"], guidelines=p["guidelines"])
    )


@reactions.on("ParticipantEnrolled")
def _enrolled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    program = conn.execute(sa.select(programs).where(programs.c.id == p["program_id"])).first()
    name = program.name if program else "your mentorship program"
    role = "a mentor" if p["role"] == "mentor" else "a mentee"
    body = f"You are enrolled in {name} as {role}."
    if program and program.guidelines:
        body += f"\n\nProgram guidelines:\n{program.guidelines}"
    queue(conn, e, p["person_id"], "enrolled", f"You are enrolled in {name}", body)


def queue(
    conn: sa.Connection, cause: Envelope, recipient_id: str, kind: str, subject: str, body: str
):
    """One notification per (cause, recipient, kind): its id is derived, so a repeat is refused."""
    notification_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cause.event_id}/{recipient_id}/{kind}"))
    store.append(
        conn,
        f"notification-{notification_id}",
        [
            NewEvent(
                "NotificationQueued",
                {
                    "notification_id": notification_id,
                    "recipient_id": recipient_id,
                    "kind": kind,
                    "subject": subject,
                    "body": body,
                    "source_event_id": cause.event_id,
                },
            )
        ],
        expected_version=0,
        meta=Metadata.caused_by(cause),
    )
