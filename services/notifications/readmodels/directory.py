"""What notifications knows of the other services' records: institutions, people, programs, cycles,
staff grants and who is in each pair or group. Projected from their events; the lookups the
notices and timers need read it."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope
from services.eventkit.directory import Directory, grant_key

from .tables import cycles, institutions, pair_members, programs, recipients, staff_grants

# Applied by the consumer's reactions (app.reactions), which also wake what waited for a record.
directory = Directory(
    institutions=institutions,
    programs=programs,
    cycles=cycles,
    people=recipients,
    staff_roles=staff_grants,
    derive={
        "institutions": lambda row: {"signature": f"The {row['name']} mentorship program team"}
    },
)


def grant_role(conn: sa.Connection, e: Envelope) -> bool:
    """RoleGranted: True if the grant is new."""
    p = e.payload
    g = staff_grants
    key = grant_key(p["role"], p.get("institution_id"), p.get("program_id"))
    known = conn.execute(
        sa.select(g.c.person_id).where((g.c.person_id == p["person_id"]) & (g.c.grant_key == key))
    ).first()
    directory.apply(conn, e)
    return known is None


def remember_members(conn: sa.Connection, pair_id: str, person_ids: list[str]) -> None:
    """Who is in a pair or group: added to, never narrowed (a republished group keeps earlier
    members)."""
    known = set(members(conn, pair_id))
    for person_id in dict.fromkeys(person_ids):
        if person_id not in known:
            conn.execute(pair_members.insert().values(pair_id=pair_id, person_id=person_id))


# --- lookups ------------------------------------------------------------------------------------


def members(conn: sa.Connection, pair_id: str) -> list[str]:
    return list(
        conn.execute(
            sa.select(pair_members.c.person_id)
            .where(pair_members.c.pair_id == pair_id)
            .order_by(pair_members.c.person_id)
        ).scalars()
    )


def person(conn: sa.Connection, person_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(recipients).where(recipients.c.id == person_id)).first()
    return dict(row._mapping) if row is not None else None


def person_or_partner(conn: sa.Connection, person_id: str) -> dict[str, Any]:
    """The person, or a stand-in that greets them as 'your partner' until they are known."""
    known = person(conn, person_id)
    if known is None:
        return {"id": person_id, "institution_id": None, "name": "your partner", "email": ""}
    return known


def institution_known(conn: sa.Connection, institution_id: str | None) -> bool:
    found = conn.execute(sa.select(institutions.c.id).where(institutions.c.id == institution_id))
    return found.first() is not None


def institution_context(conn: sa.Connection, institution_id: str | None) -> dict[str, Any]:
    row = conn.execute(sa.select(institutions).where(institutions.c.id == institution_id)).first()
    if row is None:
        return {"name": "Tandem", "signature": "The Tandem mentorship team", "time_zone": "UTC"}
    return dict(row._mapping)


def time_zone_of(conn: sa.Connection, person_id: str) -> str:
    """The time zone of the person's institution (UTC while either is unknown)."""
    institution_id = person_or_partner(conn, person_id)["institution_id"]
    return institution_context(conn, institution_id)["time_zone"]


def program(conn: sa.Connection, program_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(programs).where(programs.c.id == program_id)).first()
    return dict(row._mapping) if row is not None else None


def cycle(conn: sa.Connection, cycle_id: str) -> Any:
    return conn.execute(sa.select(cycles).where(cycles.c.id == cycle_id)).first()


def cycle_rhythm(conn: sa.Connection, cycle_id: str | None) -> tuple[str, str | None]:
    """The cycle's institution's time zone (UTC while unknown) and its meeting expectations (None
    while the cycle is unknown)."""
    row = conn.execute(
        sa.select(cycles.c.meeting_expectations, institutions.c.time_zone)
        .select_from(cycles)
        .outerjoin(programs, programs.c.id == cycles.c.program_id)
        .outerjoin(institutions, institutions.c.id == programs.c.institution_id)
        .where(cycles.c.id == cycle_id)
    ).first()
    if row is None:
        return "UTC", None
    return row.time_zone or "UTC", row.meeting_expectations


def coordinators(conn: sa.Connection, institution_id: str | None, program_id: str | None) -> set:
    """Coordinators of the institution, institution-wide or of this program."""
    g = staff_grants
    return set(
        conn.execute(
            sa.select(g.c.person_id)
            .where((g.c.role == "coordinator") & (g.c.institution_id == institution_id))
            .where(g.c.program_id.is_(None) | (g.c.program_id == program_id))
        ).scalars()
    )


def consortium_admins(conn: sa.Connection) -> set:
    g = staff_grants
    return set(
        conn.execute(sa.select(g.c.person_id).where(g.c.role == "consortium_admin")).scalars()
    )
