"""What the use cases and the API read from the directory tables: uniqueness across the
consortium, existing people and enrollments, an enrollment with its person, a person's grants."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import NotFound, rls

from .tables import conflicts, enrollments, institutions, people, staff_roles


def short_code_taken(conn: sa.Connection, short_code: str) -> bool:
    code = short_code.strip().upper()
    found = conn.execute(sa.select(institutions.c.id).where(institutions.c.short_code == code))
    return found.first() is not None


def email_taken(conn: sa.Connection, email: str) -> bool:
    """Emails are unique in the consortium: look beyond the caller's institutions."""
    with rls.unrestricted(conn):
        found = conn.execute(
            sa.select(people.c.id).where(sa.func.lower(people.c.email) == email.strip().lower())
        ).first()
    return found is not None


def people_by_email(conn: sa.Connection, emails: list[str]) -> dict[str, sa.Row]:
    """Whoever has one of `emails` (compared without regard to letter case), in any institution,
    keyed by lower-cased email (emails are unique in the consortium: the rows of other
    institutions are read to refuse them)."""
    wanted = sorted({e.strip().lower() for e in emails})
    p = people
    found: dict[str, sa.Row] = {}
    with rls.unrestricted(conn):
        for start in range(0, len(wanted), 500):
            rows = conn.execute(
                sa.select(
                    p.c.id, p.c.email, p.c.institution_id, p.c.name, p.c.training_level,
                    p.c.specialty, p.c.pronouns,
                ).where(sa.func.lower(p.c.email).in_(wanted[start : start + 500]))
            )  # fmt: skip
            found.update({r.email.lower(): r for r in rows})
    return found


def cycle_enrollments(
    conn: sa.Connection, cycle_id: str, person_ids: list[str]
) -> dict[tuple[str, str], sa.Row]:
    """(person id, role) -> the enrollment (id, status and roster profile), for these people in
    the cycle."""
    e = enrollments
    found: dict[tuple[str, str], sa.Row] = {}
    for start in range(0, len(person_ids), 500):
        rows = conn.execute(
            sa.select(
                e.c.id, e.c.person_id, e.c.role, e.c.status, e.c.interests, e.c.goals,
                e.c.languages, e.c.meeting_mode, e.c.capacity,
            ).where(e.c.cycle_id == cycle_id, e.c.person_id.in_(person_ids[start : start + 500]))
        )  # fmt: skip
        found.update({(r.person_id, r.role): r for r in rows})
    return found


def enrollment_as(conn: sa.Connection, cycle_id: str, person_id: str, role: str) -> sa.Row | None:
    """The person's enrollment in the cycle in that role, withdrawn or not."""
    e = enrollments
    return conn.execute(
        sa.select(e.c.id, e.c.status).where(
            e.c.cycle_id == cycle_id, e.c.person_id == person_id, e.c.role == role
        )
    ).first()


def enrollment_view(conn: sa.Connection, enrollment_id: str) -> sa.RowMapping:
    """An enrollment with its person's name and training level."""
    e, p = enrollments, people
    found = (
        conn.execute(
            sa.select(e, p.c.name, p.c.training_level)
            .join(p, p.c.id == e.c.person_id)
            .where(e.c.id == enrollment_id)
        )
        .mappings()
        .first()
    )
    if found is None:
        raise NotFound("No such enrollment.")
    return found


def grants(conn: sa.Connection, person_id: str) -> list:
    """Every role the person holds: staff roles, and mentor or mentee in each active enrollment."""
    e, s = enrollments, staff_roles
    staff = (
        conn.execute(
            sa.select(s.c.role, s.c.institution_id, s.c.program_id).where(
                s.c.person_id == person_id
            )
        )
        .mappings()
        .all()
    )
    taking_part = (
        conn.execute(
            sa.select(e.c.role, e.c.institution_id, e.c.program_id)
            .where(e.c.person_id == person_id, e.c.status == "active")
            .distinct()
        )
        .mappings()
        .all()
    )
    return [*staff, *taking_part]


def declared_conflicts(conn: sa.Connection, enrollment_ids: list[str]) -> dict[str, dict[str, str]]:
    """Enrollment id -> {email of the other person: kind} of the conflicts declared on it."""
    c, p = conflicts, people
    found: dict[str, dict[str, str]] = {}
    with rls.unrestricted(conn):  # the other person may be enrolled from elsewhere
        for start in range(0, len(enrollment_ids), 500):
            rows = conn.execute(
                sa.select(c.c.enrollment_id, c.c.kind, p.c.email)
                .join(p, p.c.id == c.c.other_person_id)
                .where(c.c.enrollment_id.in_(enrollment_ids[start : start + 500]))
            )
            for r in rows:
                found.setdefault(r.enrollment_id, {})[r.email.lower()] = r.kind
    return found
