"""Enrollment's read model tables: the directory of institutions, programs, cycles, people,
enrollments, conflicts and staff roles, projected inline from its own events (`directory`)."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import define_kit_tables

metadata = sa.MetaData()
kit = define_kit_tables(metadata)

institutions = sa.Table(
    "institutions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("short_code", sa.String(20), nullable=False, unique=True),
    sa.Column("time_zone", sa.String(64), nullable=False),
)  # fmt: skip
programs = sa.Table(
    "programs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("program_type", sa.String(50), nullable=False),
    sa.Column("guidelines", sa.Text, nullable=False),
    sa.Column("guidelines_version", sa.Integer, nullable=False, server_default="1"),
)  # fmt: skip
cycles = sa.Table(
    "cycles", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("program_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("cross_institution", sa.Boolean, nullable=False),
    sa.Column("pairing_format", sa.String(20), nullable=False, server_default="one_to_one"),
    sa.Column("group_size", sa.Integer, nullable=True),
    sa.Column("meeting_expectations", sa.Text, nullable=False, server_default=""),
    sa.Column("review_months", sa.JSON, nullable=True),
)  # fmt: skip
people = sa.Table(
    "people", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("training_level", sa.String(30), nullable=False),
    sa.Column("specialty", sa.String(200), nullable=False),
    sa.Column("pronouns", sa.String(40), nullable=False, server_default=""),
)  # fmt: skip
enrollments = sa.Table(
    "enrollments", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("interests", sa.JSON, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=True),
    sa.Column("status", sa.String(10), nullable=False, server_default="active"),
    sa.Column("goals", sa.Text, nullable=False, server_default=""),
    sa.Column("languages", sa.JSON, nullable=True),
    sa.Column("meeting_mode", sa.String(10), nullable=False, server_default="either"),
    sa.Column("availability", sa.JSON, nullable=True),
    sa.Column("identity", sa.JSON, nullable=True),
    sa.Column("ranking", sa.JSON, nullable=True),
    sa.Column("not_acceptable", sa.JSON, nullable=True),  # a mentor's, as mentee enrollment ids
    sa.Column("guidelines_accepted_version", sa.Integer, nullable=True),
    sa.Column("withdrawal_reason", sa.Text, nullable=True),
    sa.UniqueConstraint("cycle_id", "person_id", "role", name="uq_enrollment_cycle_person_role"),
)  # fmt: skip
conflicts = sa.Table(
    "conflicts", metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("other_person_id", sa.String(36), primary_key=True),
    sa.Column("person_id", sa.String(36), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("kind", sa.String(20), nullable=False),
)  # fmt: skip
staff_roles = sa.Table(
    "staff_roles", metadata,
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("grant_key", sa.String(100), primary_key=True),
    sa.Column("role", sa.String(30), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=True, index=True),
    sa.Column("program_id", sa.String(36), nullable=True),
)  # fmt: skip
# Roster files a coordinator has previewed, kept until applied (or replaced by a newer preview)
# so that confirming applies exactly the previewed bytes.
roster_previews = sa.Table(
    "roster_previews", metadata,
    sa.Column("cycle_id", sa.String(36), primary_key=True),
    sa.Column("file_sha256", sa.String(64), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)  # fmt: skip
