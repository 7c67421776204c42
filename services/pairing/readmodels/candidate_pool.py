"""The candidate pool, projected from enrollment's events through the event kit's directory, and
read as the engine sees it."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa

from services.eventkit.directory import Directory

from .. import engine
from .tables import candidates, conflicts, cycles, people

pool = Directory(
    people=people, cycles=cycles, enrollments=candidates, conflicts=conflicts
).projection("candidate_pool")


def load_pool(
    conn: sa.Connection, cycle_id: str, *, profiles: bool = True
) -> tuple[list[engine.Mentee], list[engine.Mentor]]:
    """The cycle's active participants as the engine sees them (ids are person ids). Without
    `profiles`, only who takes which role at which level and institution, as the eligible levels
    see them: no interests, rankings or conflicts to read."""
    if not profiles:
        return _levels_only(conn, cycle_id)
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
    # Joined on the cycle rather than listing thousands of enrollment ids as parameters.
    for r in conn.execute(
        sa.select(conflicts.c.enrollment_id, conflicts.c.other_person_id)
        .join(c, c.c.enrollment_id == conflicts.c.enrollment_id)
        .where(c.c.cycle_id == cycle_id, c.c.status == "active")
    ):
        declared.setdefault(r.enrollment_id, set()).add(r.other_person_id)
    person_of = {r["enrollment_id"]: r["person_id"] for r in rows}
    mentees, mentors = [], []
    for r in rows:
        common = {
            "id": r["person_id"],
            "institution_id": r["institution_id"],
            "level_rank": engine.level_rank(r["training_level"]),
            "training_level": r["training_level"],
            "interests": frozenset(i.lower() for i in r["interests"] or []),
            "languages": frozenset(x.lower() for x in r["languages"] or []),
            "meeting_mode": r["meeting_mode"],
            "availability": frozenset(r["availability"] or []),
            "identity": r["identity"],
            "conflicts": frozenset(declared.get(r["enrollment_id"], ())),
        }
        ranking = tuple(person_of[e] for e in r["ranking"] or [] if e in person_of)
        if r["role"] == "mentee":
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
            # Mentees the mentor would not accept are never paired with them, as a conflict is.
            refused = {person_of[e] for e in r["not_acceptable"] or [] if e in person_of}
            common["conflicts"] = common["conflicts"] | refused
            mentors.append(engine.Mentor(capacity=r["capacity"] or 1, ranking=ranking, **common))
    return mentees, mentors


def _levels_only(
    conn: sa.Connection, cycle_id: str
) -> tuple[list[engine.Mentee], list[engine.Mentor]]:
    c, p = candidates, people
    rows = conn.execute(
        sa.select(c.c.person_id, c.c.role, c.c.institution_id, p.c.training_level)
        .join(p, p.c.id == c.c.person_id)
        .where(c.c.cycle_id == cycle_id, c.c.status == "active")
        .order_by(c.c.enrollment_id)
    ).all()
    mentees, mentors = [], []
    for person_id, role, institution_id, level in rows:
        kind, side = (engine.Mentee, mentees) if role == "mentee" else (engine.Mentor, mentors)
        side.append(kind(person_id, institution_id, engine.level_rank(level), training_level=level))
    return mentees, mentors


def mentor_capacity(conn: sa.Connection, cycle_id: str) -> dict[str, int]:
    """Each active mentor's capacity: all that answering or expiring a request needs."""
    c = candidates
    rows = conn.execute(
        sa.select(c.c.person_id, c.c.capacity).where(
            c.c.cycle_id == cycle_id, c.c.role == "mentor", c.c.status == "active"
        )
    )
    return {r.person_id: r.capacity or 1 for r in rows}


def eligible_mentees(
    conn: sa.Connection, mentor_enrollment_id: str, rules: engine.Rules
) -> list[dict[str, Any]]:
    """The active mentees the mentor could be paired with under `rules` (level, institution,
    declared conflicts on either side), whether or not the mentor would accept them, by name.
    Only what a mentor may see: no goals or self-identification."""
    c = candidates
    mentor_row = conn.execute(
        sa.select(c.c.cycle_id, c.c.person_id, c.c.role).where(
            c.c.enrollment_id == mentor_enrollment_id
        )
    ).first()
    if mentor_row is None or mentor_row.role != "mentor":
        return []
    mentees, mentors = load_pool(conn, mentor_row.cycle_id)
    mentor = next((m for m in mentors if m.id == mentor_row.person_id), None)
    if mentor is None:
        return []
    declared = {
        r.other_person_id
        for r in conn.execute(
            sa.select(conflicts.c.other_person_id).where(
                conflicts.c.enrollment_id == mentor_enrollment_id
            )
        )
    }
    # The mentor's own "not acceptable" list is theirs to undo, so it does not hide anyone.
    mentor = dataclasses.replace(mentor, conflicts=frozenset(declared))
    allowed = {m.id for m in mentees if engine.acceptable(m, mentor, rules)}
    rows = conn.execute(
        sa.select(c.c.enrollment_id, c.c.person_id, c.c.interests, c.c.languages,
                  c.c.meeting_mode, people.c.name, people.c.training_level)
        .join(people, people.c.id == c.c.person_id)
        .where(c.c.cycle_id == mentor_row.cycle_id, c.c.role == "mentee", c.c.status == "active")
        .order_by(people.c.name, c.c.enrollment_id)
    ).mappings()  # fmt: skip
    return [dict(r) for r in rows if r["person_id"] in allowed]
