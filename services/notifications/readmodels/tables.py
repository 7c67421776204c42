"""Notifications' tables: its read models, the worker's timers and queues, and the kit's store.

Timers (survey reminders, no-meeting alerts) are rows here, written by the reactions and fired by
the worker's timer loop: durable across restarts, and each notice they queue has an id derived
from what it is about, so it is queued once however often a timer fires."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import define_kit_tables

metadata = sa.MetaData()
kit = define_kit_tables(metadata)
Timestamp = sa.DateTime(timezone=True)

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
    sa.Column("is_open", sa.Boolean, nullable=False, server_default=sa.true()),
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
    sa.Column("calendar", sa.Text, nullable=True),  # an .ics invitation the email carries
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
# Each enrolled participant's invitation (the "you are enrolled" notice): when it is to be sent
# (`send_at`; none while the coordinator invites by hand), and when it was (`invited_at`).
invitations = sa.Table(
    "invitations",
    metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("person_id", sa.String(36), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("mode", sa.String(10), nullable=False),
    sa.Column("send_at", Timestamp, nullable=True, index=True),
    sa.Column("invited_at", Timestamp, nullable=True),
    sa.Column("enrolled_event_id", sa.String(36), nullable=False),
    sa.Column("correlation_id", sa.String(36), nullable=False),
)
