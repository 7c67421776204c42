"""Who is paired, as feedback reads it: cycles, pairs and coaching groups from the roster
projection, joined when read (their events arrive in any order). Shared by the API, the access
resolvers and the survey issuer."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import NotFound
from services.eventkit.db import one
from services.eventkit.envelope import parse_time

from . import readmodels as rm
from .domain.relationships import Relationship


def cycle(conn: sa.Connection, cycle_id: str) -> sa.RowMapping:
    return one(
        conn, rm.cycles, "cycle (or its enrollment events have not arrived yet)", id=cycle_id
    )


def withdrawn(conn: sa.Connection, cycle_id: str) -> set[str]:
    p = rm.participants
    rows = conn.execute(
        sa.select(p.c.person_id).where(p.c.cycle_id == cycle_id, p.c.status == "withdrawn")
    )
    return {r.person_id for r in rows}


def pair_relationship(row: sa.RowMapping, gone: set[str]) -> Relationship:
    return Relationship(
        id=row["pair_id"],
        cycle_id=row["cycle_id"],
        kind="pair",
        members={row["mentor_id"]: "mentor", row["mentee_id"]: "mentee"},
        active=row["status"] == "active" and not {row["mentor_id"], row["mentee_id"]} & gone,
        started_on=parse_time(row["created_at"]).date(),
    )


def group_relationship(row: sa.RowMapping, gone: set[str]) -> Relationship:
    members = {m: "mentee" for m in row["member_ids"] if m not in gone}
    members[row["coach_id"]] = "mentor"
    return Relationship(
        id=row["group_id"],
        cycle_id=row["cycle_id"],
        kind="group",
        members=members,
        active=row["coach_id"] not in gone and len(members) > 1,
        started_on=parse_time(row["created_at"]).date(),
    )


def relationship(conn: sa.Connection, pair_id: str) -> tuple[Relationship, sa.RowMapping]:
    """The pair (or coaching group) with this id and its cycle; 404 if unknown."""
    row = conn.execute(sa.select(rm.pairs).where(rm.pairs.c.pair_id == pair_id)).mappings().first()
    group = None
    if row is None:
        group = (
            conn.execute(sa.select(rm.groups).where(rm.groups.c.group_id == pair_id))
            .mappings()
            .first()
        )
        if group is None:
            raise NotFound("No such pair or group.")
    found = cycle(conn, (row or group)["cycle_id"])
    gone = withdrawn(conn, found["id"])
    rel = pair_relationship(row, gone) if row else group_relationship(group, gone)
    return rel, found


def cycle_relationships(conn: sa.Connection, cycle_id: str) -> list[Relationship]:
    """Every pair and group of a cycle (a group's members counted once, as the group)."""
    gone = withdrawn(conn, cycle_id)
    pairs = conn.execute(sa.select(rm.pairs).where(rm.pairs.c.cycle_id == cycle_id)).mappings()
    groups = (
        conn.execute(sa.select(rm.groups).where(rm.groups.c.cycle_id == cycle_id)).mappings().all()
    )
    # A group's members are also published as pairs with the coach: count them once, as the group.
    grouped = {(g["coach_id"], m) for g in groups for m in g["member_ids"]}
    return [
        *(
            pair_relationship(p, gone)
            for p in pairs
            if (p["mentor_id"], p["mentee_id"]) not in grouped
        ),
        *(group_relationship(g, gone) for g in groups),
    ]


def names(conn: sa.Connection, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(rm.people.c.id, rm.people.c.name).where(rm.people.c.id.in_(ids)))
    return {r.id: r.name for r in rows}
