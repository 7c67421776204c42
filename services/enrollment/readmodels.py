"""Enrollment's read models, projected inline from its own events."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Envelope, Projection, define_kit_tables

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

directory = Projection(
    "directory",
    tables=[institutions, programs, cycles, people, enrollments, conflicts, staff_roles],
)

PROFILE_COLUMNS = (
    "interests", "capacity", "goals", "languages", "meeting_mode", "availability", "identity",
)  # fmt: skip


def grant_key(role: str, institution_id: str | None, program_id: str | None) -> str:
    return f"{role}:{institution_id or ''}:{program_id or ''}"


@directory.on("InstitutionAdded")
def _institution(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(institutions.insert().values(
        id=p["institution_id"], name=p["name"], short_code=p["short_code"], time_zone=p["time_zone"]
    ))  # fmt: skip


@directory.on("ProgramCreated")
def _program(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(programs.insert().values(
        id=p["program_id"], institution_id=p["institution_id"], name=p["name"],
        program_type=p["program_type"], guidelines=p["guidelines"], guidelines_version=1,
    ))  # fmt: skip


@directory.on("GuidelinesUpdated")
def _guidelines(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        programs.update()
        .where(programs.c.id == p["program_id"])
        .values(guidelines=p["guidelines"], guidelines_version=p["guidelines_version"])
    )


@directory.on("CycleOpened")
def _cycle(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(cycles.insert().values(
        id=p["cycle_id"], program_id=p["program_id"], institution_id=p["institution_id"],
        name=p["name"], is_open=True, cross_institution=p["cross_institution"],
        pairing_format=p["pairing_format"], group_size=p["group_size"],
        meeting_expectations=p["meeting_expectations"], review_months=p["review_months"],
    ))  # fmt: skip


@directory.on("CycleClosed", "CycleReopened")
def _cycle_state(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        cycles.update()
        .where(cycles.c.id == e.payload["cycle_id"])
        .values(is_open=e.event_type == "CycleReopened")
    )


@directory.on("PersonRegistered")
def _person(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(people.insert().values(
        id=p["person_id"], institution_id=p["institution_id"], name=p["name"], email=p["email"],
        training_level=p["training_level"], specialty=p["specialty"], pronouns=p["pronouns"],
    ))  # fmt: skip


@directory.on("PersonUpdated")
def _person_updated(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    changes = {k: p[k] for k in ("name", "training_level", "specialty", "pronouns") if k in p}
    conn.execute(people.update().where(people.c.id == p["person_id"]).values(**changes))


@directory.on("ParticipantEnrolled")
def _enrolled(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(enrollments.insert().values(
        id=p["enrollment_id"], cycle_id=p["cycle_id"], program_id=p["program_id"],
        institution_id=e.institution_id, person_id=p["person_id"], role=p["role"], status="active",
        ranking=[], guidelines_accepted_version=p["guidelines_accepted_version"],
        **{k: p[k] for k in PROFILE_COLUMNS},
    ))  # fmt: skip


def _update_enrollment(conn: sa.Connection, enrollment_id: str, **values) -> None:
    conn.execute(enrollments.update().where(enrollments.c.id == enrollment_id).values(**values))


@directory.on("ProfileUpdated")
def _profile(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _update_enrollment(conn, p["enrollment_id"], **{k: p[k] for k in PROFILE_COLUMNS if k in p})


@directory.on("InterestRanked")
def _ranked(conn: sa.Connection, e: Envelope) -> None:
    _update_enrollment(conn, e.payload["enrollment_id"], ranking=e.payload["mentor_enrollment_ids"])


@directory.on("GuidelinesAccepted")
def _accepted(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _update_enrollment(
        conn, p["enrollment_id"], guidelines_accepted_version=p["guidelines_version"]
    )


@directory.on("ParticipantWithdrew")
def _withdrew(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _update_enrollment(conn, p["enrollment_id"], status="withdrawn", withdrawal_reason=p["reason"])


@directory.on("ParticipantReenrolled")
def _reenrolled(conn: sa.Connection, e: Envelope) -> None:
    _update_enrollment(conn, e.payload["enrollment_id"], status="active", withdrawal_reason=None)


@directory.on("ConflictDeclared")
def _conflict(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    key = (conflicts.c.enrollment_id == p["enrollment_id"]) & (
        conflicts.c.other_person_id == p["other_person_id"]
    )
    conn.execute(conflicts.delete().where(key))
    conn.execute(conflicts.insert().values(
        enrollment_id=p["enrollment_id"], other_person_id=p["other_person_id"],
        person_id=p["person_id"], cycle_id=p["cycle_id"], kind=p["kind"],
    ))  # fmt: skip


@directory.on("ConflictRemoved")
def _conflict_removed(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        conflicts.delete().where(
            conflicts.c.enrollment_id == p["enrollment_id"],
            conflicts.c.other_person_id == p["other_person_id"],
        )
    )


@directory.on("RoleGranted")
def _granted(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(staff_roles.insert().values(
        person_id=p["person_id"], grant_key=grant_key(p["role"], p["institution_id"], p["program_id"]),
        role=p["role"], institution_id=p["institution_id"], program_id=p["program_id"],
    ))  # fmt: skip


@directory.on("RoleRevoked")
def _revoked(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        staff_roles.delete().where(
            staff_roles.c.person_id == p["person_id"],
            staff_roles.c.grant_key == grant_key(p["role"], p["institution_id"], p["program_id"]),
        )
    )
