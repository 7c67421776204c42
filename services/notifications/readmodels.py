"""Notifications' read models and its reactions to enrollment and pairing events."""

from __future__ import annotations

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
from services.eventkit.config import env, port, topic
from services.eventkit.contracts.notifications import registry

from . import messages

metadata = sa.MetaData()
kit = define_kit_tables(metadata)
Timestamp = sa.DateTime(timezone=True)

QUEUED, SENT, KEPT, FAILED = "queued", "sent", "kept", "failed"  # KEPT: in the local outbox
EMAIL, IN_APP, DIGEST = "email", "in_app", "digest"
DIGEST_HOUR = 7  # digests go out at 07:00 in the recipient's institution's time zone

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
# is everyone in the pair, who must never be told of it.
concerns = sa.Table(
    "concerns",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("program_id", sa.String(36), nullable=True),
    sa.Column("involved", sa.Text, nullable=False),
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
# A person's next digest, while they have digest items waiting.
digests = sa.Table(
    "digests",
    metadata,
    sa.Column("recipient_id", sa.String(36), primary_key=True),
    sa.Column("next_run_at", Timestamp, nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=True),
)


# --- own events -------------------------------------------------------------------------------

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
    for channel in (c for c in p["channels"] if c in (EMAIL, DIGEST)):
        conn.execute(
            deliveries.insert().values(
                notification_id=p["notification_id"],
                channel=channel,
                recipient_id=p["recipient_id"],
                institution_id=e.institution_id,
                kind=p["kind"],
                to_address=p["email"],
                subject=p["subject"],
                text_body=p["body"],
                html_body=p["html"],
                state=QUEUED,
                attempts=0,
                # Digest items wait for their digest; email is due at once.
                next_attempt_at=e.occurred_at if channel == EMAIL else None,
                created_at=e.occurred_at,
            )
        )
        if channel == DIGEST:
            _schedule_digest(conn, p["recipient_id"], e.occurred_at)


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
    local = p["transport"] == "local"
    conn.execute(
        deliveries.update()
        .where(
            deliveries.c.notification_id.in_(p["notification_ids"])
            & (deliveries.c.channel == DIGEST)
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
    conn.execute(digests.delete().where(digests.c.recipient_id == p["recipient_id"]))
    # Items queued while this digest was being sent wait for the next one.
    waiting = conn.execute(
        sa.select(sa.func.min(deliveries.c.created_at)).where(
            (deliveries.c.recipient_id == p["recipient_id"])
            & (deliveries.c.channel == DIGEST)
            & (deliveries.c.state == QUEUED)
        )
    ).scalar()
    if waiting is not None:
        _schedule_digest(conn, p["recipient_id"], e.occurred_at)


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


def _schedule_digest(conn: sa.Connection, recipient_id: str, after: dt.datetime) -> None:
    """The person's next digest at DIGEST_HOUR local time after `after`, unless one is set."""
    exists = conn.execute(
        sa.select(digests.c.recipient_id).where(digests.c.recipient_id == recipient_id)
    ).first()
    if exists:
        return
    zone = conn.execute(
        sa.select(institutions.c.time_zone)
        .join(recipients, recipients.c.institution_id == institutions.c.id)
        .where(recipients.c.id == recipient_id)
    ).scalar()
    conn.execute(
        digests.insert().values(
            recipient_id=recipient_id,
            next_run_at=next_digest_time(after, zone or "UTC"),
            attempts=0,
        )
    )


def next_digest_time(after: dt.datetime, time_zone: str, hour: int = DIGEST_HOUR) -> dt.datetime:
    """The first DIGEST_HOUR:00 in `time_zone` strictly after `after`, in UTC."""
    try:
        zone = ZoneInfo(time_zone)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    local = after.astimezone(zone)
    candidate = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if candidate <= local:
        # Add a calendar day, not 24 hours, so daylight-saving changes keep the local hour.
        day = local.date() + dt.timedelta(days=1)
        candidate = dt.datetime(day.year, day.month, day.day, hour, tzinfo=zone)
    return candidate.astimezone(dt.UTC)


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
        )
    )
    _wake(conn, p["cycle_id"])


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
    _pair_published(conn, e)


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
        )
    )
    g = staff_grants
    coordinators = conn.execute(
        sa.select(g.c.person_id)
        .where((g.c.role == "coordinator") & (g.c.institution_id == institution_id))
        .where(g.c.program_id.is_(None) | (g.c.program_id == program_id))
    ).scalars()
    context = {"link": web_link(f"/concerns/{p['concern_id']}")}
    for person_id in sorted(set(coordinators) - set(involved)):
        queue(conn, e, person_id, "concern_raised", context)
    _wake(conn, p["concern_id"])


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
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{cause.event_id}/{recipient_id}/{kind}"))


def queue(
    conn: sa.Connection, cause: Envelope, recipient_id: str, kind: str, context: dict[str, Any]
) -> None:
    """One notification per (cause, recipient, kind): its id is derived, so a repeat (a replay
    from the topics, say) finds its stream already written and adds nothing."""
    notification_id = notification_id_for(cause, recipient_id, kind)
    stream_id = f"notification-{notification_id}"
    if store.stream_head(conn, stream_id)[0] > 0:
        return
    recipient = _person_row(conn, recipient_id)
    institution = institution_context(conn, recipient["institution_id"] or cause.institution_id)
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
        meta=Metadata.caused_by(cause, institution_id=recipient["institution_id"]),
    )
