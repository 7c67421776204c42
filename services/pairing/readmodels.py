"""Pairing's candidate pool, projected from enrollment events.

People and enrollments live in different streams, so they may arrive in either order: they are
kept apart and joined when read.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Envelope, Projection, define_kit_tables
from services.eventkit.config import topic

metadata = sa.MetaData()
kit = define_kit_tables(metadata)

people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("training_level", sa.String(30), nullable=False),
    sa.Column("specialty", sa.String(200), nullable=False),
)
candidates = sa.Table(
    "candidates",
    metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("person_id", sa.String(36), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("interests", sa.JSON, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=True),
)

pool = Projection("candidate_pool", tables=[people, candidates], topics=[topic("enrollment")])


@pool.on("PersonRegistered")
def _person(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        people.insert().values(
            id=p["person_id"],
            institution_id=p["institution_id"],
            name=p["name"],
            training_level=p["training_level"],
            specialty=p["specialty"],
        )
    )


@pool.on("ParticipantEnrolled")
def _enrolled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        candidates.insert().values(
            enrollment_id=p["enrollment_id"],
            cycle_id=p["cycle_id"],
            institution_id=e.institution_id,
            person_id=p["person_id"],
            role=p["role"],
            interests=p["interests"],
            capacity=p["capacity"],
        )
    )
