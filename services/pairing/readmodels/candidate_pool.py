"""The candidate pool, projected from enrollment's events through the event kit's directory, and
read as the engine sees it."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit.directory import Directory

from .. import engine
from .tables import candidates, conflicts, cycles, people

pool = Directory(
    people=people, cycles=cycles, enrollments=candidates, conflicts=conflicts
).projection("candidate_pool")


def load_pool(
    conn: sa.Connection, cycle_id: str
) -> tuple[list[engine.Mentee], list[engine.Mentor]]:
    """The cycle's active participants as the engine sees them (ids are person ids)."""
    c, p = candidates, people
    rows = (
        conn.execute(
            sa.select(c, p.c.training_level)
            .join(p, p.c.id == c.c.person_id)
            .where(c.c.cycle_id == cycle_id, c.c.status == "active")
            .order_by(c.c.enrollment_id)
        )
        .mappings()
        .all()
    )
    declared: dict[str, set[str]] = {}
    for r in conn.execute(
        sa.select(conflicts).where(
            conflicts.c.enrollment_id.in_([r["enrollment_id"] for r in rows])
        )
    ):
        declared.setdefault(r.enrollment_id, set()).add(r.other_person_id)
    person_of = {r["enrollment_id"]: r["person_id"] for r in rows}
    mentees, mentors = [], []
    for r in rows:
        common = {
            "id": r["person_id"],
            "institution_id": r["institution_id"],
            "level_rank": engine.level_rank(r["training_level"]),
            "interests": frozenset(i.lower() for i in r["interests"] or []),
            "languages": frozenset(x.lower() for x in r["languages"] or []),
            "meeting_mode": r["meeting_mode"],
            "availability": frozenset(r["availability"] or []),
            "identity": r["identity"],
            "conflicts": frozenset(declared.get(r["enrollment_id"], ())),
        }
        if r["role"] == "mentee":
            ranking = tuple(person_of[e] for e in r["ranking"] or [] if e in person_of)
            goals = frozenset(w for w in (r["goals"] or "").lower().split() if len(w) > 3)
            # Consented self-identification is matched as shared identity: a mentor scores on
            # this rule only if they consented too and share every item the mentee gave.
            mentees.append(
                engine.Mentee(
                    ranking=ranking,
                    goals_keywords=goals,
                    identity_preferences=r["identity"],
                    **common,
                )
            )
        else:
            mentors.append(engine.Mentor(capacity=r["capacity"] or 1, **common))
    return mentees, mentors


def training_levels(conn: sa.Connection, person_ids: list[str]) -> dict[str, str]:
    rows = conn.execute(
        sa.select(people.c.id, people.c.training_level).where(people.c.id.in_(person_ids))
    )
    return {r.id: r.training_level for r in rows}


def mentor_capacity(conn: sa.Connection, cycle_id: str) -> dict[str, int]:
    """Each active mentor's capacity: all that answering or expiring a request needs."""
    c = candidates
    rows = conn.execute(
        sa.select(c.c.person_id, c.c.capacity).where(
            c.c.cycle_id == cycle_id, c.c.role == "mentor", c.c.status == "active"
        )
    )
    return {r.person_id: r.capacity or 1 for r in rows}
