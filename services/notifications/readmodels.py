"""Notifications' read models and its reactions to enrollment, pairing and feedback events.

Timers (survey reminders, no-meeting alerts) are rows here, written by the reactions and fired by
the worker's timer loop (timers.py): durable across restarts, and each notice they queue has an
id derived from what it is about, so it is queued once however often a timer fires."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from services.eventkit import (
    Envelope,
    EventStore,
    Metadata,
    NewEvent,
    Projection,
    define_kit_tables,
)
from services.eventkit.config import env, env_int, port, topic
from services.eventkit.contracts.notifications import registry
from services.eventkit.envelope import SYSTEM_ACTOR

from . import messages, schedule

metadata = sa.MetaData()
kit = define_kit_tables(metadata)
Timestamp = sa.DateTime(timezone=True)

QUEUED, SENT, KEPT, FAILED = "queued", "sent", "kept", "failed"  # KEPT: in the local outbox
EMAIL, IN_APP, DIGEST, WEEKLY = "email", "in_app", "digest", "weekly"
DIGESTS = (DIGEST, WEEKLY)  # daily and weekly digests
DIGEST_HOUR = schedule.DIGEST_HOUR
# What stays of a password link's email once the SMTP server has it, and what its event says.
SECRET_SENT = "(Sent by email. The one-time link in it is not kept.)"
LINK_WITHHELD = "[the one-time link: in the email only, never kept in the record]"
REMINDER_DAYS = (3, 1)  # survey reminders this many days before the due date
NO_MEETING_DAYS = 30  # NOTIFY_NO_MEETING_DAYS: alert after this many days without a meeting

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
    sa.Column("institution_id", sa.String(36), nullable=True),
)
institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(300), nullable=False),
)
cycles = sa.Table(
    "cycles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("meeting_expectations", sa.Text, nullable=False),
    sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false()),
)
# Staff grants (RoleGranted / RoleRevoked): who coordinates which institution (or one of its
# programs), and who the consortium admins are.
staff_grants = sa.Table(
    "staff_grants",
    metadata,
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("grant_key", sa.String(120), primary_key=True),
    sa.Column("role", sa.String(30), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=True, index=True),
    sa.Column("program_id", sa.String(36), nullable=True),
)
# Who is in each pair (PairCreated) or coaching group (GroupFormed): whom a logged meeting concerns.
pair_members = sa.Table(
    "pair_members",
    metadata,
    sa.Column("pair_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), primary_key=True),
)
# A raised concern's routing only: never its text, kind or raiser's words. `involved` (JSON list)
# is everyone in the pair, who must never be told of it. `raised_event_id` keys the notices of it,
# so a coordinator granted the role later is told once, like those told when it was raised.
concerns = sa.Table(
    "concerns",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("program_id", sa.String(36), nullable=True),
    sa.Column("involved", sa.Text, nullable=False),
    sa.Column("raised_event_id", sa.String(36), nullable=True),
    sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false()),
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
preferences = sa.Table(
    "preferences",
    metadata,
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(50), primary_key=True),
    sa.Column("channel", sa.String(20), nullable=False),
)
# One row per (notification, channel) that needs sending: email now, or in the next digest.
# State changes that matter are events (Queued, Sent, Failed); attempts, next_attempt_at and
# last_error are the sender's own bookkeeping between attempts.
deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("notification_id", sa.String(36), primary_key=True),
    sa.Column("channel", sa.String(20), primary_key=True),
    sa.Column("recipient_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("kind", sa.String(50), nullable=False),
    sa.Column("to_address", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("text_body", sa.Text, nullable=False),
    sa.Column("html_body", sa.Text, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Timestamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("finished_at", Timestamp, nullable=True),
    sa.Index("ix_deliveries_due", "channel", "state", "next_attempt_at"),
)
# Mail kept here instead of sent when no SMTP server is configured (the embedded default).
local_mail = sa.Table(
    "local_mail",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),  # notification or digest id
    sa.Column("recipient_id", sa.String(36), nullable=False, index=True),
    sa.Column("to_address", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("text_body", sa.Text, nullable=False),
    sa.Column("html_body", sa.Text, nullable=False),
    sa.Column("kept_at", Timestamp, nullable=False),
)
# Reactions to events that arrived before what they refer to (another stream, so maybe another
# partition): parked until the missing person, program, cycle or institution is known.
waiting = sa.Table(
    "waiting",
    metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("waiting_for", sa.String(36), nullable=False, index=True),
    sa.Column("event", sa.Text, nullable=False),
)
# A person's next daily ("digest") or weekly digest, while they have items waiting for it.
digests = sa.Table(
    "digests",
    metadata,
    sa.Column("recipient_id", sa.String(36), primary_key=True),
    sa.Column("channel", sa.String(20), primary_key=True),
    sa.Column("next_run_at", Timestamp, nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
)
# The email of a message that carries a secret (a one-time password link): its event holds a copy
# without the link. Kept until the mail is handed to the SMTP server (or, with no server, for the
# local outbox); in no projection, so rebuilding the read models keeps it.
private_bodies = sa.Table(
    "private_bodies",
    metadata,
    sa.Column("notification_id", sa.String(36), primary_key=True),
    sa.Column("text_body", sa.Text, nullable=False),
    sa.Column("html_body", sa.Text, nullable=False),
)
# Survey reminders still to send: one row per (instance, person, days before the due date),
# removed when sent, or when the person answers.
survey_reminders = sa.Table(
    "survey_reminders",
    metadata,
    sa.Column("instance_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("days_before", sa.Integer, primary_key=True),
    sa.Column("run_at", Timestamp, nullable=False, index=True),
    sa.Column("cycle_id", sa.String(36), nullable=False),
    sa.Column("due_on", sa.String(10), nullable=False),
    sa.Column("source_event_id", sa.String(36), nullable=False),
    sa.Column("correlation_id", sa.String(36), nullable=False),
)
# Who has answered which survey instance (the answers stay in feedback).
survey_answers = sa.Table(
    "survey_answers",
    metadata,
    sa.Column("instance_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), primary_key=True),
)
# Each pair's current gap without a meeting. A gap starts when the pair is created or a meeting
# is logged (`gap_event_id`, `gap_from`); `stage` 0: the members are told next, at
# `next_alert_at`; 1: the coordinators next; 2: both told for this gap.
pair_watch = sa.Table(
    "pair_watch",
    metadata,
    sa.Column("pair_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=True, index=True),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("paired_on", sa.String(10), nullable=True),
    sa.Column("last_met_on", sa.String(10), nullable=True),
    sa.Column("gap_from", sa.String(10), nullable=True),  # ISO date
    sa.Column("gap_event_id", sa.String(36), nullable=True),
    sa.Column("correlation_id", sa.String(36), nullable=True),
    sa.Column("stage", sa.Integer, nullable=False),
    sa.Column("next_alert_at", Timestamp, nullable=True, index=True),
)


# --- own events -------------------------------------------------------------------------------

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
    """The person's next daily (or, for `weekly`, Monday's) digest at DIGEST_HOUR local time
    after `after`, unless one is set."""
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
            next_run_at=next_digest_time(
                after, _time_zone_of(conn, recipient_id), weekly=channel == WEEKLY
            ),
            attempts=0,
        )
    )


def _time_zone_of(conn: sa.Connection, person_id: str) -> str:
    zone = conn.execute(
        sa.select(institutions.c.time_zone)
        .join(recipients, recipients.c.institution_id == institutions.c.id)
        .where(recipients.c.id == person_id)
    ).scalar()
    return zone or "UTC"


def next_digest_time(
    after: dt.datetime, time_zone: str, hour: int = DIGEST_HOUR, weekly: bool = False
) -> dt.datetime:
    """The first DIGEST_HOUR:00 in `time_zone` strictly after `after` (a Monday's if weekly)."""
    return schedule.next_digest_time(after, time_zone, hour, weekly)


store = EventStore(kit, registry, topic("notifications"), [in_app, settings, mail])


# --- other services' events -------------------------------------------------------------------

reactions = Projection(
    "reactions",
    tables=[
        recipients,
        programs,
        institutions,
        cycles,
        waiting,
        staff_grants,
        pair_members,
        concerns,
        survey_reminders,
        survey_answers,
        pair_watch,
    ],
    sources=["enrollment", "pairing", "feedback"],
)


class NotReady(Exception):
    """Something a notification needs is not known yet."""

    def __init__(self, missing_id: str) -> None:
        super().__init__(missing_id)
        self.missing_id = missing_id


def _notifying(handler: Callable[[sa.Connection, Envelope], None]):
    """A reaction that gathers everything first, then queues; parked while something is missing."""

    def react(conn: sa.Connection, e: Envelope) -> None:
        try:
            handler(conn, e)
        except NotReady as missing:
            conn.execute(
                waiting.insert().values(
                    event_id=e.event_id, waiting_for=missing.missing_id, event=e.to_json().decode()
                )
            )

    react.__name__ = handler.__name__
    return react


def _wake(conn: sa.Connection, known_id: str) -> None:
    """Retry the reactions that waited for `known_id` (each may park again for something else)."""
    rows = conn.execute(sa.select(waiting).where(waiting.c.waiting_for == known_id)).all()
    for row in rows:
        conn.execute(waiting.delete().where(waiting.c.event_id == row.event_id))
        reactions.apply(conn, Envelope.from_json(row.event.encode()))


@reactions.on("InstitutionAdded")
def _institution(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        institutions.insert().values(
            id=p["institution_id"],
            name=p["name"],
            time_zone=p["time_zone"],
            signature=f"The {p['name']} mentorship program team",
        )
    )
    _wake(conn, p["institution_id"])


@reactions.on("PersonRegistered")
def _person(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        recipients.insert().values(
            id=p["person_id"], institution_id=p["institution_id"], name=p["name"], email=p["email"]
        )
    )
    _wake(conn, p["person_id"])


@reactions.on("PersonUpdated")
def _person_updated(conn: sa.Connection, e: Envelope) -> None:
    if "name" in e.payload:
        conn.execute(
            recipients.update()
            .where(recipients.c.id == e.payload["person_id"])
            .values(name=e.payload["name"])
        )


@reactions.on("ProgramCreated")
def _program(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        programs.insert().values(
            id=p["program_id"],
            name=p["name"],
            guidelines=p["guidelines"],
            institution_id=p["institution_id"],
        )
    )
    _wake(conn, p["program_id"])


@reactions.on("GuidelinesUpdated")
def _guidelines(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        programs.update().where(programs.c.id == p["program_id"]).values(guidelines=p["guidelines"])
    )


@reactions.on("CycleOpened")
def _cycle(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        cycles.insert().values(
            id=p["cycle_id"],
            program_id=p["program_id"],
            meeting_expectations=p["meeting_expectations"],
            closed=False,
        )
    )
    _wake(conn, p["cycle_id"])


@reactions.on("CycleClosed", "CycleReopened")
def _cycle_closed(conn: sa.Connection, e: Envelope) -> None:
    # A closed cycle's pairs get no no-meeting alerts (they resume if it is reopened).
    closed = e.event_type == "CycleClosed"
    conn.execute(cycles.update().where(cycles.c.id == e.payload["cycle_id"]).values(closed=closed))


@reactions.on("ParticipantEnrolled")
@_notifying
def _enrolled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    program = _program_row(conn, p["program_id"])
    _ready(conn, p["person_id"])
    role = "a mentor" if p["role"] == "mentor" else "a mentee"
    queue(conn, e, p["person_id"], "enrolled", {"program": program, "role": role})


@reactions.on("PairCreated")
def _pair(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _remember_members(conn, p["pair_id"], [p["mentee_id"], p["mentor_id"]])
    _watch_pair(conn, e)
    _pair_published(conn, e)


@reactions.on("PairEnded")
def _pair_ended(conn: sa.Connection, e: Envelope) -> None:
    w = pair_watch
    conn.execute(
        w.update()
        .where(w.c.pair_id == e.payload["pair_id"])
        .values(active=False, next_alert_at=None)
    )


@_notifying
def _pair_published(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    program, expectations = _cycle_context(conn, p["cycle_id"])
    mentee, mentor = _ready(conn, p["mentee_id"]), _ready(conn, p["mentor_id"])
    for me, partner, partner_role in ((mentee, mentor, "mentor"), (mentor, mentee, "mentee")):
        context = {
            "program": program,
            "partner": partner,
            "partner_role": partner_role,
            "meeting_expectations": expectations,
        }
        queue(conn, e, me["id"], "pair_published", context)


@reactions.on("GroupFormed")
def _group(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _remember_members(conn, p["group_id"], [p["coach_id"], *p["member_ids"]])
    _group_formed(conn, e)


@_notifying
def _group_formed(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    program, _ = _cycle_context(conn, p["cycle_id"])
    coach = _ready(conn, p["coach_id"])
    members = [_ready(conn, m) for m in p["member_ids"]]
    for person_id in (p["coach_id"], *p["member_ids"]):
        context = {
            "program": program,
            "coach": coach,
            "members": members,
            "is_coach": person_id == p["coach_id"],
        }
        queue(conn, e, person_id, "group_formed", context)


def _remember_members(conn: sa.Connection, pair_id: str, person_ids: list[str]) -> None:
    """Who is in a pair or group (added to, never narrowed: a republished group keeps earlier
    members), then wake the meetings that waited for it."""
    known = set(
        conn.execute(
            sa.select(pair_members.c.person_id).where(pair_members.c.pair_id == pair_id)
        ).scalars()
    )
    for person_id in dict.fromkeys(person_ids):
        if person_id not in known:
            conn.execute(pair_members.insert().values(pair_id=pair_id, person_id=person_id))
    _wake(conn, pair_id)


def _members(conn: sa.Connection, pair_id: str) -> list[str]:
    return list(
        conn.execute(
            sa.select(pair_members.c.person_id)
            .where(pair_members.c.pair_id == pair_id)
            .order_by(pair_members.c.person_id)
        ).scalars()
    )


@reactions.on("RoleGranted")
def _role_granted(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    key = _grant_key(p)
    exists = conn.execute(
        sa.select(staff_grants.c.person_id).where(
            (staff_grants.c.person_id == p["person_id"]) & (staff_grants.c.grant_key == key)
        )
    ).first()
    if exists is None:
        conn.execute(
            staff_grants.insert().values(
                person_id=p["person_id"],
                grant_key=key,
                role=p["role"],
                institution_id=p.get("institution_id"),
                program_id=p.get("program_id"),
            )
        )
        if p["role"] == "coordinator" and p.get("institution_id"):
            _tell_new_coordinator(conn, e)


def _tell_new_coordinator(conn: sa.Connection, e: Envelope) -> None:
    """A new coordinator hears of the open concerns they now handle (those not about them), each
    once: the notice has the id it would have had if they had been told when it was raised."""
    p = e.payload
    c = concerns
    query = sa.select(c).where((c.c.institution_id == p["institution_id"]) & ~c.c.resolved)
    if p.get("program_id"):
        query = query.where(c.c.program_id == p["program_id"])
    for concern in conn.execute(query.order_by(c.c.id)).all():
        if p["person_id"] in json.loads(concern.involved):
            continue
        raised = concern.raised_event_id or concern.id
        context = {"link": web_link(f"/concerns/{concern.id}")}
        key = f"{raised}/{p['person_id']}/concern_raised"
        queue(conn, e, p["person_id"], "concern_raised", context, key=key)


def _coordinators(conn: sa.Connection, institution_id: str | None, program_id: str | None) -> set:
    """Coordinators of the institution, institution-wide or of this program."""
    g = staff_grants
    return set(
        conn.execute(
            sa.select(g.c.person_id)
            .where((g.c.role == "coordinator") & (g.c.institution_id == institution_id))
            .where(g.c.program_id.is_(None) | (g.c.program_id == program_id))
        ).scalars()
    )


@reactions.on("RoleRevoked")
def _role_revoked(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        staff_grants.delete().where(
            (staff_grants.c.person_id == p["person_id"])
            & (staff_grants.c.grant_key == _grant_key(p))
        )
    )


def _grant_key(p: dict[str, Any]) -> str:
    return f"{p['role']}:{p.get('institution_id') or ''}:{p.get('program_id') or ''}"


def web_link(path: str) -> str:
    """A link into the web app (WEB_PUBLIC_URL, as the web builds its own links); the page itself
    decides what the reader sees."""
    return env("WEB_PUBLIC_URL", f"http://127.0.0.1:{port('web')}").rstrip("/") + path


def local_time(at_iso: str, time_zone: str) -> str:
    """An ISO 8601 instant as the institution reads it: 'Friday 4 December 2026, 17:00 CST'."""
    at = dt.datetime.fromisoformat(at_iso.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = at.astimezone(zone)
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"


@reactions.on("MentorRequested")
@_notifying
def _mentor_requested(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    program, _ = _cycle_context(conn, p["cycle_id"])
    mentee, mentor = _ready(conn, p["mentee_id"]), _ready(conn, p["mentor_id"])
    zone = institution_context(conn, mentor["institution_id"])["time_zone"]
    context = {
        "program": program,
        "mentee": mentee,
        "rank": p["rank"],
        "deadline": local_time(p["deadline"], zone),
        "link": web_link(f"/requests/{p['request_id']}"),
    }
    queue(conn, e, p["mentor_id"], "mentor_requested", context)


@reactions.on("RequestExpired")
@_notifying
def _request_expired(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    program, _ = _cycle_context(conn, p["cycle_id"])
    _ready(conn, p["mentee_id"])
    mentor = _ready(conn, p["mentor_id"])
    context = {"program": program, "mentor": mentor, "link": web_link("/me/pair")}
    queue(conn, e, p["mentee_id"], "request_expired", context)


@reactions.on("MenteeUnmatched")
@_notifying
def _mentee_unmatched(conn: sa.Connection, e: Envelope) -> None:
    """The mentee, and the coordinators of the program (the reason is the system's own words)."""
    p = e.payload
    program, _ = _cycle_context(conn, p["cycle_id"])
    mentee = _ready(conn, p["mentee_id"])
    context = {"program": program, "reason": p["reason"]}
    queue(conn, e, p["mentee_id"], "unmatched", {**context, "link": web_link("/me/pair")})
    path = f"/coordinator/cycles/{p['cycle_id']}/pairing/people/{p['mentee_id']}"
    for person_id in sorted(_coordinators(conn, program["institution_id"], program["id"])):
        if person_id != p["mentee_id"]:
            context = {**context, "mentee": mentee, "link": web_link(path)}
            queue(conn, e, person_id, "mentee_unmatched", context)


@reactions.on("RequestAccepted", "RequestDeclined")
@_notifying
def _request_answered(conn: sa.Connection, e: Envelope) -> None:
    # A decline's `reason` is the mentor's own note (or the system's "mentor full"), not written
    # for the mentee: it is left out.
    p = e.payload
    program, expectations = _cycle_context(conn, p["cycle_id"])
    _ready(conn, p["mentee_id"])
    mentor = _ready(conn, p["mentor_id"])
    context = {
        "program": program,
        "mentor": mentor,
        "accepted": e.event_type == "RequestAccepted",
        "meeting_expectations": expectations,
        "link": web_link(f"/cycles/{p['cycle_id']}/choices"),
    }
    queue(conn, e, p["mentee_id"], "request_answered", context)


@reactions.on("MeetingLogged")
def _meeting(conn: sa.Connection, e: Envelope) -> None:
    _watch_meeting(conn, e)
    _meeting_logged(conn, e)


@_notifying
def _meeting_logged(conn: sa.Connection, e: Envelope) -> None:
    # Only who logged it and when: the notes, topics and objectives stay in the feedback service.
    p = e.payload
    program, _ = _cycle_context(conn, p["cycle_id"])
    members = _members(conn, p["pair_id"])
    if not members:
        raise NotReady(p["pair_id"])
    logger = _ready(conn, p["logged_by"])
    others = [m for m in members if m != p["logged_by"]]
    for person_id in others:
        _ready(conn, person_id)
    for person_id in others:
        context = {
            "program": program,
            "logger": logger,
            "date": p["date"],
            "link": web_link(f"/meetings/{p['meeting_id']}"),
        }
        queue(conn, e, person_id, "meeting_logged", context)


@reactions.on("SurveyIssued")
@_notifying
def _survey_issued(conn: sa.Connection, e: Envelope) -> None:
    """Each person a survey was issued to is asked to answer it."""
    p = e.payload
    program, _ = _cycle_context(conn, p["cycle_id"])
    recipients = [r["person_id"] for r in p["recipients"]]
    for person_id in recipients:
        _ready(conn, person_id)
    for person_id in recipients:
        context = {
            "program": program,
            "due_on": p["due_on"],
            "link": web_link(f"/surveys/{p['instance_id']}"),
        }
        queue(conn, e, person_id, "survey_due", context)
        _schedule_reminders(conn, e, person_id)


def _answered(conn: sa.Connection, instance_id: str, person_id: str) -> bool:
    a = survey_answers
    return (
        conn.execute(
            sa.select(a.c.person_id).where(
                (a.c.instance_id == instance_id) & (a.c.person_id == person_id)
            )
        ).first()
        is not None
    )


def _schedule_reminders(conn: sa.Connection, e: Envelope, person_id: str) -> None:
    """Reminders at REMINDER_HOUR institution time, REMINDER_DAYS days before the due date, unless
    the person has answered already or a reminder would come within a day of the survey itself."""
    p = e.payload
    if _answered(conn, p["instance_id"], person_id):
        return
    zone = institution_context(conn, _person_row(conn, person_id)["institution_id"])["time_zone"]
    due_on = dt.date.fromisoformat(p["due_on"])
    r = survey_reminders
    for days_before in REMINDER_DAYS:
        run_at = schedule.at_local_hour(
            due_on - dt.timedelta(days=days_before), schedule.REMINDER_HOUR, zone
        )
        if run_at <= e.occurred_at + dt.timedelta(days=1):
            continue
        key = (r.c.instance_id == p["instance_id"]) & (r.c.person_id == person_id)
        if conn.execute(
            sa.select(r.c.run_at).where(key & (r.c.days_before == days_before))
        ).first():
            continue
        conn.execute(
            r.insert().values(
                instance_id=p["instance_id"], person_id=person_id, days_before=days_before,
                run_at=run_at, cycle_id=p["cycle_id"], due_on=p["due_on"],
                source_event_id=e.event_id, correlation_id=e.correlation_id,
            )
        )  # fmt: skip


@reactions.on("SurveyAnswered")
def _survey_answered(conn: sa.Connection, e: Envelope) -> None:
    """Only who answered which survey is kept: the answers stay in feedback. Their reminders go."""
    instance_id, person_id = e.payload["instance_id"], e.payload["person_id"]
    if not _answered(conn, instance_id, person_id):
        conn.execute(survey_answers.insert().values(instance_id=instance_id, person_id=person_id))
    r = survey_reminders
    conn.execute(r.delete().where((r.c.instance_id == instance_id) & (r.c.person_id == person_id)))


@reactions.on("ConcernRaised")
def _concern_raised(conn: sa.Connection, e: Envelope) -> None:
    """To the coordinators of the program's institution (institution-wide, or of that program)
    who are not in the pair. Confidential: nothing of the concern but that it exists is kept here
    or put in a message, and the event is never parked (it would keep its text)."""
    p = e.payload
    cycle = conn.execute(sa.select(cycles).where(cycles.c.id == p["cycle_id"])).first()
    program = None
    if cycle is not None:
        program = conn.execute(sa.select(programs).where(programs.c.id == cycle.program_id)).first()
    institution_id = (program.institution_id if program is not None else None) or e.institution_id
    program_id = program.id if program is not None else None
    involved = sorted({p["raised_by"], *p["parties"], *_members(conn, p["pair_id"])})
    if conn.execute(sa.select(concerns.c.id).where(concerns.c.id == p["concern_id"])).first():
        return
    conn.execute(
        concerns.insert().values(
            id=p["concern_id"],
            institution_id=institution_id,
            program_id=program_id,
            involved=json.dumps(involved),
            raised_event_id=e.event_id,
            resolved=False,
        )
    )
    coordinators = _coordinators(conn, institution_id, program_id)
    context = {"link": web_link(f"/concerns/{p['concern_id']}")}
    for person_id in sorted(coordinators - set(involved)):
        queue(conn, e, person_id, "concern_raised", context)
    _wake(conn, p["concern_id"])


@reactions.on("ConcernResolved")
def _concern_resolved(conn: sa.Connection, e: Envelope) -> None:
    # Only that it is closed: coordinators granted the role later are not told of it.
    c = concerns
    conn.execute(c.update().where(c.c.id == e.payload["concern_id"]).values(resolved=True))


@reactions.on("ConcernEscalated")
@_notifying
def _concern_escalated(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    concern = conn.execute(sa.select(concerns).where(concerns.c.id == p["concern_id"])).first()
    if concern is None:
        raise NotReady(p["concern_id"])
    involved = set(json.loads(concern.involved))
    admins = conn.execute(
        sa.select(staff_grants.c.person_id).where(staff_grants.c.role == "consortium_admin")
    ).scalars()
    context = {"link": web_link(f"/concerns/{p['concern_id']}")}
    for person_id in sorted(set(admins) - involved):
        queue(conn, e, person_id, "concern_escalated", context)


def _program_row(conn: sa.Connection, program_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(programs).where(programs.c.id == program_id)).first()
    if row is None:
        raise NotReady(program_id)
    return dict(row._mapping)


def _cycle_context(conn: sa.Connection, cycle_id: str) -> tuple[dict[str, Any], str]:
    row = conn.execute(sa.select(cycles).where(cycles.c.id == cycle_id)).first()
    if row is None:
        raise NotReady(cycle_id)
    return _program_row(conn, row.program_id), row.meeting_expectations


def _ready(conn: sa.Connection, person_id: str) -> dict[str, Any]:
    """The person and their institution, both known, or NotReady."""
    row = conn.execute(sa.select(recipients).where(recipients.c.id == person_id)).first()
    if row is None:
        raise NotReady(person_id)
    known = conn.execute(
        sa.select(institutions.c.id).where(institutions.c.id == row.institution_id)
    ).first()
    if known is None:
        raise NotReady(row.institution_id)
    return dict(row._mapping)


def _person_row(conn: sa.Connection, person_id: str) -> dict[str, Any]:
    row = conn.execute(sa.select(recipients).where(recipients.c.id == person_id)).first()
    if row is None:
        return {"id": person_id, "institution_id": None, "name": "your partner", "email": ""}
    return dict(row._mapping)


def institution_context(conn: sa.Connection, institution_id: str | None) -> dict[str, Any]:
    row = conn.execute(sa.select(institutions).where(institutions.c.id == institution_id)).first()
    if row is None:
        return {"name": "Tandem", "signature": "The Tandem mentorship team", "time_zone": "UTC"}
    return dict(row._mapping)


def channel_for(conn: sa.Connection, person_id: str, kind: str) -> str:
    """Where this person wants this kind: email unless they chose otherwise (and may)."""
    if kind in messages.MANDATORY:
        return EMAIL
    chosen = conn.execute(
        sa.select(preferences.c.channel).where(
            (preferences.c.person_id == person_id) & (preferences.c.kind == kind)
        )
    ).scalar()
    return chosen or messages.DEFAULT_CHANNEL


def notification_id_for(cause: Envelope, recipient_id: str, kind: str) -> str:
    return derived_id(f"{cause.event_id}/{recipient_id}/{kind}")


def derived_id(key: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, key))


@dataclasses.dataclass(frozen=True)
class Cause:
    """What a notice a timer queues is about: the event that set the timer."""

    event_id: str
    correlation_id: str
    institution_id: str | None = None


def queue(
    conn: sa.Connection,
    cause: Envelope | Cause,
    recipient_id: str,
    kind: str,
    context: dict[str, Any],
    key: str | None = None,
) -> bool:
    """One notification per (cause, recipient, kind), or per `key` when given: its id is
    derived, so a repeat (a replay from the topics, a timer firing again) finds its stream
    already written and adds nothing. True if it was queued now."""
    notification_id = derived_id(key or f"{cause.event_id}/{recipient_id}/{kind}")
    stream_id = f"notification-{notification_id}"
    if store.stream_head(conn, stream_id)[0] > 0:
        return False
    recipient = _person_row(conn, recipient_id)
    institution_id = recipient["institution_id"] or cause.institution_id
    institution = institution_context(conn, institution_id)
    rendered = messages.render(
        kind, {**context, "recipient": recipient, "institution": institution}
    )
    channel = channel_for(conn, recipient_id, kind)
    channels = [IN_APP] + ([channel] if channel != IN_APP and recipient["email"] else [])
    store.append(
        conn,
        stream_id,
        [
            NewEvent(
                "NotificationQueued",
                {
                    "notification_id": notification_id,
                    "recipient_id": recipient_id,
                    "kind": kind,
                    "subject": rendered.subject,
                    "body": rendered.text,
                    "html": rendered.html,
                    "email": recipient["email"],
                    "channels": channels,
                    "source_event_id": cause.event_id,
                },
            )
        ],
        expected_version=0,
        meta=Metadata(
            institution_id=institution_id,
            actor=dict(SYSTEM_ACTOR),
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
        ),
    )
    return True


def queue_account_link(
    conn: sa.Connection,
    events: EventStore,
    person_id: str,
    link_kind: str,
    url: str,
    email: str,
    valid_for: str,
    name: str,
    institution_id: str | None,
    meta: Metadata,
) -> str:
    """A set-password or reset link, by email only. The link goes into the email (and the delivery
    row that sends it), never into the event: the event says where it went instead."""
    notification_id = str(uuid.uuid4())
    kind = messages.ACCOUNT_LINKS[link_kind]
    known = conn.execute(sa.select(recipients).where(recipients.c.id == person_id)).first()
    recipient = {
        "id": person_id,
        "name": known.name if known else name,
        "email": email,
        "institution_id": known.institution_id if known else institution_id,
    }
    context = {
        "recipient": recipient,
        "institution": institution_context(conn, recipient["institution_id"]),
        "valid_for": valid_for,
    }
    sent = messages.render(kind, {**context, "link": url})
    kept = messages.render(kind, {**context, "link": LINK_WITHHELD})
    assert url not in kept.text and url not in kept.subject
    conn.execute(
        private_bodies.insert().values(
            notification_id=notification_id, text_body=sent.text, html_body=sent.html
        )
    )
    events.append(
        conn,
        f"notification-{notification_id}",
        [
            NewEvent(
                "NotificationQueued",
                {
                    "notification_id": notification_id,
                    "recipient_id": person_id,
                    "kind": kind,
                    "subject": kept.subject,
                    "body": kept.text,
                    "html": "",
                    "email": email,
                    "channels": [EMAIL],
                    "source_event_id": meta.correlation_id,
                },
            )
        ],
        expected_version=0,
        meta=dataclasses.replace(meta, institution_id=recipient["institution_id"]),
    )
    return notification_id


# --- pairs that do not meet ---------------------------------------------------------------------


def _watch_row(conn: sa.Connection, pair_id: str) -> Any:
    return conn.execute(sa.select(pair_watch).where(pair_watch.c.pair_id == pair_id)).first()


def _watch_pair(conn: sa.Connection, e: Envelope) -> None:
    """A published pair starts its first gap, from the day it was paired (or from a meeting
    already logged, if that arrived first)."""
    p = e.payload
    zone, _ = cycle_meeting_rule(conn, p["cycle_id"])
    paired_on = schedule.local_date(e.occurred_at, zone).isoformat()
    row = _watch_row(conn, p["pair_id"])
    if row is not None and row.paired_on is not None:
        return  # known already
    gap = {"gap_from": paired_on, "gap_event_id": e.event_id, "correlation_id": e.correlation_id}
    if row is not None and row.last_met_on is not None and row.last_met_on >= paired_on:
        gap = {"gap_from": row.last_met_on}
    values = {
        "cycle_id": p["cycle_id"],
        "active": True,
        "paired_on": paired_on,
        "stage": 0,
        **gap,
        "next_alert_at": no_meeting_alert_at(conn, p["cycle_id"], gap["gap_from"], 0),
    }
    if row is None:
        conn.execute(pair_watch.insert().values(pair_id=p["pair_id"], last_met_on=None, **values))
    else:
        conn.execute(
            pair_watch.update().where(pair_watch.c.pair_id == p["pair_id"]).values(**values)
        )


def _watch_meeting(conn: sa.Connection, e: Envelope) -> None:
    """A meeting dated after the current gap began ends that gap and starts the next."""
    p = e.payload
    met_on = p["date"][:10]
    row = _watch_row(conn, p["pair_id"])
    gap = {
        "gap_from": met_on,
        "gap_event_id": e.event_id,
        "correlation_id": e.correlation_id,
        "stage": 0,
    }
    if row is None:  # before its pair (or a coaching group's meeting): no alerts until paired
        conn.execute(
            pair_watch.insert().values(
                pair_id=p["pair_id"], cycle_id=p["cycle_id"], active=False, paired_on=None,
                last_met_on=met_on, next_alert_at=None, **gap,
            )
        )  # fmt: skip
        return
    values: dict[str, Any] = {}
    if row.last_met_on is None or met_on > row.last_met_on:
        values["last_met_on"] = met_on
    if row.gap_from is None or met_on > row.gap_from:
        alert = no_meeting_alert_at(conn, row.cycle_id, met_on, 0) if row.active else None
        values.update(gap, next_alert_at=alert)
    if values:
        conn.execute(
            pair_watch.update().where(pair_watch.c.pair_id == p["pair_id"]).values(**values)
        )


def cycle_meeting_rule(conn: sa.Connection, cycle_id: str | None) -> tuple[str, int]:
    """The cycle's institution's time zone, and how many days its pairs may go without a meeting:
    what the cycle's meeting expectations say, else NOTIFY_NO_MEETING_DAYS (30)."""
    row = conn.execute(
        sa.select(cycles.c.meeting_expectations, institutions.c.time_zone)
        .select_from(cycles)
        .outerjoin(programs, programs.c.id == cycles.c.program_id)
        .outerjoin(institutions, institutions.c.id == programs.c.institution_id)
        .where(cycles.c.id == cycle_id)
    ).first()
    expected = schedule.expected_meeting_days(row.meeting_expectations) if row else None
    days = expected or env_int("NOTIFY_NO_MEETING_DAYS", NO_MEETING_DAYS)
    return (row.time_zone if row and row.time_zone else "UTC"), max(days, 1)


def escalation_days(days: int) -> int:
    """How long after the members are told the coordinators are: NOTIFY_NO_MEETING_ESCALATE_DAYS,
    else half the allowed gap."""
    return max(env_int("NOTIFY_NO_MEETING_ESCALATE_DAYS", 0) or days // 2, 1)


def no_meeting_alert_at(
    conn: sa.Connection, cycle_id: str | None, gap_from: str, stage: int
) -> dt.datetime | None:
    """When a gap that began on `gap_from` reaches `stage`'s alert, at REMINDER_HOUR institution
    time: 0 the members (after the allowed days), 1 the coordinators (some days later)."""
    if stage >= 2:
        return None
    zone, days = cycle_meeting_rule(conn, cycle_id)
    after = days + (escalation_days(days) if stage == 1 else 0)
    day = dt.date.fromisoformat(gap_from) + dt.timedelta(days=after)
    return schedule.at_local_hour(day, schedule.REMINDER_HOUR, zone)
