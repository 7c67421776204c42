"""Pairing's read model tables: the candidate pool as enrollment's events describe it (people,
cycles, candidates, conflicts), and the service's own proposals, pairs, groups and families
(units) and mentee-choice requests.

People, cycles and enrollments live in different streams, so their events may arrive in any
order: each goes to its own table and they are joined when read.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import define_kit_tables

metadata = sa.MetaData()
kit = define_kit_tables(metadata)

people = sa.Table(
    "people", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("training_level", sa.String(30), nullable=False),
    sa.Column("specialty", sa.String(200), nullable=False),
)  # fmt: skip
cycles = sa.Table(
    "cycles", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("cross_institution", sa.Boolean, nullable=False),
    sa.Column("pairing_format", sa.String(20), nullable=False),
    sa.Column("group_size", sa.Integer, nullable=True),
)  # fmt: skip
candidates = sa.Table(
    "candidates", metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("person_id", sa.String(36), nullable=False),
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
)  # fmt: skip
conflicts = sa.Table(
    "conflicts", metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("other_person_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
)  # fmt: skip

proposals = sa.Table(
    "proposals", metadata,
    sa.Column("cycle_id", sa.String(36), primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("algorithm", sa.String(20), nullable=False),
    sa.Column("draft", sa.JSON, nullable=False),
    sa.Column("excluded", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # draft | published
    sa.Column("settings", sa.JSON, nullable=False),
)  # fmt: skip
pairs = sa.Table(
    "pairs", metadata,
    sa.Column("pair_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # active | ended
    sa.Column("ended_reason", sa.Text, nullable=True),
    sa.Column("rematch_requested_by", sa.String(36), nullable=True),
    sa.Column("rematch_reason", sa.Text, nullable=True),
)  # fmt: skip
# Published coaching groups and families: every member (`member_ids`, the coach or senior and
# mid-level included) and what each is in it (`roles`: coach | member | senior | mid | junior).
units = sa.Table(
    "units", metadata,
    sa.Column("unit_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # group | family
    sa.Column("member_ids", sa.JSON, nullable=False),
    sa.Column("roles", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # active | ended
    sa.Column("ended_reason", sa.Text, nullable=True),
    sa.Column("rematch_requested_by", sa.String(36), nullable=True),
    sa.Column("rematch_reason", sa.Text, nullable=True),
)  # fmt: skip

requests = sa.Table(
    "requests", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("round_id", sa.String(36), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("deadline", sa.String(40), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # pending | accepted | declined | expired
    sa.Column("reason", sa.Text, nullable=True),
)  # fmt: skip
