"""Feedback's view of who takes part in which cycle, projected from enrollment events."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Envelope, Projection, define_kit_tables
from services.eventkit.config import topic

metadata = sa.MetaData()
kit = define_kit_tables(metadata)

participants = sa.Table(
    "participants",
    metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("role", sa.String(10), nullable=False),
)

roster = Projection("roster", tables=[participants], topics=[topic("enrollment")])


@roster.on("ParticipantEnrolled")
def _enrolled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        participants.insert().values(
            enrollment_id=p["enrollment_id"],
            cycle_id=p["cycle_id"],
            program_id=p["program_id"],
            institution_id=e.institution_id,
            person_id=p["person_id"],
            role=p["role"],
        )
    )
