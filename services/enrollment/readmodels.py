"""Enrollment's read models, projected inline from its own events."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Envelope, Projection, define_kit_tables

metadata = sa.MetaData()
kit = define_kit_tables(metadata)

institutions = sa.Table(
    "institutions",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("short_code", sa.String(20), nullable=False, unique=True),
    sa.Column("time_zone", sa.String(64), nullable=False),
)
programs = sa.Table(
    "programs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("program_type", sa.String(50), nullable=False),
    sa.Column("guidelines", sa.Text, nullable=False),
)
cycles = sa.Table(
    "cycles",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("program_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("cross_institution", sa.Boolean, nullable=False),
)
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("training_level", sa.String(30), nullable=False),
    sa.Column("specialty", sa.String(200), nullable=False),
)
enrollments = sa.Table(
    "enrollments",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("interests", sa.JSON, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=True),
    sa.UniqueConstraint("cycle_id", "person_id", "role", name="uq_enrollment_cycle_person_role"),
)

directory = Projection("directory", tables=[institutions, programs, cycles, people, enrollments])


@directory.on("InstitutionAdded")
def _institution(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        institutions.insert().values(
            id=p["institution_id"],
            name=p["name"],
            short_code=p["short_code"],
            time_zone=p["time_zone"],
        )
    )


@directory.on("ProgramCreated")
def _program(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        programs.insert().values(
            id=p["program_id"],
            institution_id=p["institution_id"],
            name=p["name"],
            program_type=p["program_type"],
            guidelines=p["guidelines"],
        )
    )


@directory.on("CycleOpened")
def _cycle(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        cycles.insert().values(
            id=p["cycle_id"],
            program_id=p["program_id"],
            institution_id=p["institution_id"],
            name=p["name"],
            is_open=True,
            cross_institution=p["cross_institution"],
        )
    )


@directory.on("PersonRegistered")
def _person(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        people.insert().values(
            id=p["person_id"],
            institution_id=p["institution_id"],
            name=p["name"],
            email=p["email"],
            training_level=p["training_level"],
            specialty=p["specialty"],
        )
    )


@directory.on("ParticipantEnrolled")
def _enrolled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        enrollments.insert().values(
            id=p["enrollment_id"],
            cycle_id=p["cycle_id"],
            program_id=p["program_id"],
            institution_id=e.institution_id,
            person_id=p["person_id"],
            role=p["role"],
            interests=p["interests"],
            capacity=p["capacity"],
        )
    )
