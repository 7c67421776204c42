"""The consortium audit trail: one read model of every service's events, kept by enrollment.

Enrollment is the consortium's directory (institutions, programs, cycles, people, roles), so its
worker follows every service's topic into `trail_entries`: one row per event with who acted (id
and role), where (institution, program), when, its correlation id, the entity it is about and a
summary of what changed. The summary comes from an allow-list per event type of fields that are
never confidential: a concern's text, meeting notes, survey answers and every other free text
stay out, and an event type missing from the list keeps no summary at all.

Pages are keyset-paged newest first on (occurred_at, id), and each filter has an index that
starts with its column and ends with that order, so a page reads about `limit` rows whatever
its depth.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope, Projection
from services.eventkit.contracts import enrollment, feedback, notifications, pairing
from services.eventkit.envelope import format_time
from services.eventkit.tables import BigId

from . import tables as rm

SERVICES: dict[str, Any] = {
    "enrollment": enrollment.registry,
    "pairing": pairing.registry,
    "feedback": feedback.registry,
    "notifications": notifications.registry,
}
MAX_PAGE = 200


def entry_columns() -> list[sa.SchemaItem]:
    """The trail's columns and indexes (the runtime table and its migration share them)."""
    return [
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(36), nullable=False, unique=True),
        sa.Column("service", sa.String(20), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("entity_type", sa.String(60), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("program_id", sa.String(36), nullable=True),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(40), nullable=False),
        sa.Column("occurred_at", sa.String(40), nullable=False),  # ISO 8601 UTC: sorts as time
        sa.Column("correlation_id", sa.String(36), nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        # Every filter's index ends in the page order, so a page is an index range scan.
        sa.Index("ix_trail_time", "occurred_at", "id"),
        sa.Index("ix_trail_institution", "institution_id", "occurred_at", "id"),
        sa.Index("ix_trail_program", "program_id", "occurred_at", "id"),
        sa.Index("ix_trail_actor", "actor_id", "occurred_at", "id"),
        sa.Index("ix_trail_type", "event_type", "occurred_at", "id"),
        sa.Index("ix_trail_entity", "entity_id", "occurred_at", "id"),
        sa.Index("ix_trail_institution_type", "institution_id", "event_type", "occurred_at", "id"),
    ]


def link_columns() -> list[sa.SchemaItem]:
    return [
        sa.Column("entity_id", sa.String(200), primary_key=True),
        sa.Column("program_id", sa.String(36), nullable=False),
    ]


entries = sa.Table("trail_entries", rm.metadata, *entry_columns())
# Which program an entity (a pair, a concern, a meeting…) belongs to, learned from the events
# that name its cycle, for the events that name only the entity.
links = sa.Table("trail_links", rm.metadata, *link_columns())

# Payload keys naming an entity whose program later events may need.
LINK_KEYS = (
    "pair_id", "group_id", "family_id", "concern_id", "meeting_id", "objective_id", "instance_id",
    "schedule_id", "run_id", "round_id", "request_id", "enrollment_id",
)  # fmt: skip


# --- the summary allow-list ---------------------------------------------------------------------

Field = str | tuple[str, Callable[[dict[str, Any]], Any]]


def _count(key: str) -> tuple[str, Callable[[dict[str, Any]], Any]]:
    return f"{key}_count", lambda p: len(p.get(key) or ())


def _changed(*keys: str) -> tuple[str, Callable[[dict[str, Any]], Any]]:
    """Which of these fields changed, not what they now say."""
    return "changed", lambda p: sorted(k for k in keys if k in p)


# Only what is named here reaches the trail.
SUMMARY: dict[str, tuple[Field, ...]] = {
    # enrollment
    "InstitutionAdded": ("name", "short_code"),
    "ProgramCreated": ("name", "program_type"),
    "GuidelinesUpdated": ("guidelines_version",),
    "CycleOpened": ("cycle_id", "name", "pairing_format", "cross_institution"),
    "CycleClosed": ("cycle_id",),
    "CycleReopened": ("cycle_id",),
    "PersonRegistered": ("person_id", "training_level"),
    "PersonUpdated": ("person_id", _changed("name", "training_level", "specialty", "pronouns")),
    "PersonErased": ("person_id",),  # whom; who erased is the entry's actor
    "ParticipantEnrolled": ("enrollment_id", "person_id", "role", "invitation"),
    "ProfileUpdated": (
        "enrollment_id",
        _changed(
            "interests",
            "capacity",
            "goals",
            "languages",
            "meeting_mode",
            "availability",
            "identity",
        ),
    ),
    "InterestRanked": ("enrollment_id", _count("mentor_enrollment_ids")),
    "MenteesRanked": (
        "enrollment_id",
        _count("mentee_enrollment_ids"),
        _count("not_acceptable_enrollment_ids"),
    ),
    "ConflictDeclared": ("enrollment_id", "other_person_id", "kind"),
    "ConflictRemoved": ("enrollment_id", "other_person_id"),
    "GuidelinesAccepted": ("enrollment_id", "guidelines_version"),
    "ParticipantWithdrew": ("enrollment_id", "person_id"),
    "ParticipantReenrolled": ("enrollment_id", "person_id"),
    "InvitationScheduled": ("enrollment_id", "person_id", "mode", "invite_at"),
    "RoleGranted": ("person_id", "role", "institution_id", "program_id"),
    "RoleRevoked": ("person_id", "role", "institution_id", "program_id"),
    "RosterImported": ("rows", "people_registered", "enrolled", "updated", "unchanged"),
    "AccessRecorded": ("kind", "person_id", "email_hash", "method", "what", "rows"),
    # pairing
    "LevelRulesSet": ("cycle_id", "min_level_gap", "mentee_levels", "mentor_levels"),
    "PairingRunRequested": ("run_id", "algorithm"),
    # Published as a summary (counts), never whole.
    "ProposalGenerated": ("run_id", "algorithm", "pair_count", "unmatched_count"),
    "ProposalEdited": ("run_id", "action", "person_id", "mentor_id", "other_mentee_id"),
    "FamilyFormed": ("family_id", "senior_id", "mid_id", _count("junior_ids")),
    "PairingPublished": ("run_id", "pairs_created", "groups_formed", "families_formed"),
    "PairCreated": ("pair_id", "mentee_id", "mentor_id"),
    "PairEnded": ("pair_id", "mentee_id", "mentor_id"),
    "RematchRequested": ("pair_id", "person_id"),
    "GroupFormed": ("group_id", "coach_id", _count("member_ids")),
    "GroupEnded": ("group_id",),
    "FamilyEnded": ("family_id",),
    "ChoiceRoundOpened": ("round_id", "response_hours"),
    "MentorRequested": ("request_id", "mentee_id", "mentor_id", "rank"),
    "RequestAccepted": ("request_id", "mentee_id", "mentor_id"),
    "RequestDeclined": ("request_id", "mentee_id", "mentor_id"),
    "RequestExpired": ("request_id", "mentee_id", "mentor_id"),
    "MenteeUnmatched": ("round_id", "mentee_id"),
    # feedback: never a concern's text or kind, a meeting's notes or topics, or an answer
    "MeetingLogged": ("meeting_id", "pair_id", "date", "duration_minutes", "mode"),
    "MeetingConfirmed": ("meeting_id", "pair_id"),
    "ObjectiveSet": ("objective_id", "pair_id", "area"),
    "ObjectiveUpdated": ("objective_id", "pair_id", "status"),
    "ObjectiveEdited": ("objective_id", "pair_id", "area"),
    "ObjectiveMoved": ("objective_id", "pair_id", "position"),
    "ActionStepPlanned": ("objective_id", "pair_id", "step_id", "status"),
    "ObjectiveCommented": ("objective_id", "pair_id"),
    "ObjectiveAgreed": ("objective_id", "pair_id"),
    "ConcernRaised": ("concern_id", "pair_id"),
    "ConcernAcknowledged": ("concern_id",),
    "ConcernEscalated": ("concern_id",),  # not why: that can say who is party to it
    "ConcernResolved": ("concern_id",),
    "ConfidentialRecordViewed": ("concern_id", "viewer_id", "viewer_role"),
    "ConcernFollowedUp": ("concern_id", "action", "by"),  # never the note
    "MeetingRequested": ("request_id", "pair_id", "requested_by", _count("options")),
    "MeetingRequestDeclined": ("request_id", "pair_id", "declined_by"),
    "MeetingRequestAccepted": ("request_id", "pair_id", "accepted_by", "sequence"),
    "MeetingRescheduled": ("request_id", "pair_id", "rescheduled_by", "sequence"),
    "MeetingRequestCancelled": ("request_id", "pair_id", "cancelled_by", "sequence"),
    "RecordsExported": ("what", "cycle_id", "rows"),
    "SurveyTemplateDefined": ("template_id", "name", _count("items")),
    "SurveyScheduled": ("schedule_id", "template_id", "months"),
    "SurveyIssued": ("instance_id", "schedule_id", "month", "due_on", _count("recipients")),
    "SurveyAnswered": ("instance_id", "person_id", "revision"),
    # notifications: never a subject, body or address
    "NotificationQueued": ("notification_id", "recipient_id", "kind", "channels"),
    "NotificationSent": ("notification_id", "recipient_id", "channel", "transport", "attempts"),
    "NotificationFailed": ("notification_id", "recipient_id", "channel", "attempts", "permanent"),
    "NotificationRead": ("notification_id", "recipient_id"),
    "NotificationPreferencesSet": ("person_id",),
    "DigestSent": ("digest_id", "recipient_id", "channel", _count("notification_ids")),
}


def summary_of(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The allowed fields of the payload (those present), or nothing for an unlisted type."""
    found: dict[str, Any] = {}
    for field in SUMMARY.get(event_type, ()):
        if isinstance(field, tuple):
            name, derive = field
            found[name] = derive(payload)
        elif payload.get(field) is not None:
            found[field] = payload[field]
    return found


def service_of(event_type: str) -> str:
    return next((name for name, reg in SERVICES.items() if reg.knows(event_type)), "")


def split_stream(stream_id: str) -> tuple[str, str]:
    """("concern-access", "<uuid>") from "concern-access-<uuid>"; ids end in a 36-char UUID."""
    if len(stream_id) > 37 and stream_id[-37] == "-":
        return stream_id[:-37], stream_id[-36:]
    return "", stream_id


# --- the projection -----------------------------------------------------------------------------

trail = Projection(
    name="trail", tables=[entries, links], sources=list(SERVICES)
)  # the worker follows every service's topic, its own included


def _program_of(conn: sa.Connection, event: Envelope, entity_id: str) -> str | None:
    payload = event.payload
    if event.event_type in ("RoleGranted", "RoleRevoked"):
        return payload.get("program_id")  # the role's scope, not a program the event touches
    program = payload.get("program_id")
    if not program and payload.get("cycle_id"):
        program = conn.execute(
            sa.select(rm.cycles.c.program_id).where(rm.cycles.c.id == payload["cycle_id"])
        ).scalar()
    known = [payload[k] for k in LINK_KEYS if isinstance(payload.get(k), str)]
    if program:
        _remember(conn, [*known, entity_id], program)
        return program
    candidates = [*known, entity_id]
    return conn.execute(
        sa.select(links.c.program_id).where(links.c.entity_id.in_(candidates)).limit(1)
    ).scalar()


def _remember(conn: sa.Connection, entity_ids: Iterable[str], program_id: str) -> None:
    wanted = {e for e in entity_ids if e}
    have = set(
        conn.execute(sa.select(links.c.entity_id).where(links.c.entity_id.in_(wanted))).scalars()
    )
    fresh = [{"entity_id": e, "program_id": program_id} for e in sorted(wanted - have)]
    if fresh:
        conn.execute(links.insert(), fresh)


def entry_of(event: Envelope, program_id: str | None) -> dict[str, Any]:
    entity_type, entity_id = split_stream(event.stream_id)
    actor = event.actor or {}
    return {
        "event_id": event.event_id,
        "service": service_of(event.event_type),
        "event_type": event.event_type,
        "entity_type": entity_type[:60],
        "entity_id": entity_id,
        "institution_id": event.institution_id,
        "program_id": program_id,
        "actor_id": str(actor.get("id", ""))[:200],
        "actor_role": str(actor.get("role", ""))[:40],
        "occurred_at": format_time(event.occurred_at),
        "correlation_id": event.correlation_id,
        "summary": summary_of(event.event_type, event.payload),
    }


def record(conn: sa.Connection, event: Envelope) -> None:
    """One trail entry per event (the consumer's inbox makes a repeat a no-op)."""
    _, entity_id = split_stream(event.stream_id)
    conn.execute(entries.insert().values(entry_of(event, _program_of(conn, event, entity_id))))


trail.on(*(name for registry in SERVICES.values() for name in registry.names()))(record)


# --- reading ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Scope:
    """Entries one may read: an institution's, or only one program's of it."""

    institution_id: str
    program_id: str | None = None


@dataclasses.dataclass(frozen=True)
class Filters:
    institution_id: str | None = None
    program_id: str | None = None
    actor_id: str | None = None
    event_type: str | None = None
    service: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None  # inclusive


@dataclasses.dataclass(frozen=True)
class Cursor:
    """Where the next (older) page starts: the last entry shown."""

    occurred_at: str
    id: int

    def encode(self) -> str:
        return f"{self.occurred_at}~{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor | None:
        at, _, ident = text.rpartition("~")
        if not at or not ident.isdigit() or len(at) > 40 or int(ident) > 2**63 - 1:
            return None
        return cls(at, int(ident))


def _conditions(filters: Filters, scopes: Sequence[Scope] | None) -> list[Any]:
    c = entries.c
    found: list[Any] = []
    if scopes is not None:  # None: the whole consortium
        found.append(
            sa.or_(
                sa.false(),
                *(
                    sa.and_(c.institution_id == s.institution_id, c.program_id == s.program_id)
                    if s.program_id
                    else c.institution_id == s.institution_id
                    for s in scopes
                ),
            )
        )
    for column, value in (
        (c.institution_id, filters.institution_id),
        (c.program_id, filters.program_id),
        (c.actor_id, filters.actor_id),
        (c.event_type, filters.event_type),
        (c.service, filters.service),
        (c.entity_type, filters.entity_type),
        (c.entity_id, filters.entity_id),
    ):
        if value:
            found.append(column == value)
    if filters.since:
        found.append(c.occurred_at >= filters.since.isoformat())
    if filters.until:
        found.append(c.occurred_at < (filters.until + dt.timedelta(days=1)).isoformat())
    return found


def page(
    conn: sa.Connection,
    filters: Filters,
    scopes: Sequence[Scope] | None,
    cursor: Cursor | None = None,
    limit: int = 50,
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """Up to `limit` entries older than `cursor`, newest first, and the next page's cursor
    (None at the end). `scopes` None reads the whole consortium; an empty list reads nothing."""
    c = entries.c
    query = sa.select(entries).where(*_conditions(filters, scopes))
    if cursor is not None:
        # A row comparison, so the database seeks the index to the cursor instead of scanning.
        query = query.where(
            sa.tuple_(c.occurred_at, c.id) < sa.tuple_(cursor.occurred_at, cursor.id)
        )
    # One row more than asked tells whether older entries remain.
    query = query.order_by(c.occurred_at.desc(), c.id.desc()).limit(limit + 1)
    rows = [dict(r) for r in conn.execute(query).mappings()]
    shown = rows[:limit]
    more = len(rows) > limit
    return shown, Cursor(shown[-1]["occurred_at"], shown[-1]["id"]) if more else None


def every(
    conn: sa.Connection, filters: Filters, scopes: Sequence[Scope] | None, batch: int = 1000
) -> Iterable[dict[str, Any]]:
    """Every matching entry, newest first, a page at a time (for the CSV export)."""
    cursor: Cursor | None = None
    while True:
        rows, cursor = page(conn, filters, scopes, cursor, batch)
        yield from rows
        if cursor is None:
            return


CSV_COLUMNS = (
    "occurred_at", "service", "event_type", "entity_type", "entity_id", "institution_id",
    "program_id", "actor_id", "actor_role", "correlation_id", "event_id", "summary",
)  # fmt: skip


def csv_row(entry: dict[str, Any]) -> dict[str, Any]:
    summary = "; ".join(f"{k}={_text(v)}" for k, v in sorted((entry["summary"] or {}).items()))
    return {**{k: entry.get(k) or "" for k in CSV_COLUMNS}, "summary": summary}


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
