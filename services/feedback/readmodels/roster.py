"""Who takes part and who is paired, as feedback reads it: enrollment's people, cycles, enrollments
and staff roles (kept through the event kit's directory projection) and pairing's pairs, coaching
groups and mentoring families. Streams arrive in any order, so each goes to its own table and they
are joined when read: into the pair, group or family (a domain Relationship) the use cases and the
policy act on."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from services.eventkit import Envelope, NotFound, Projection
from services.eventkit.auth import COORDINATOR
from services.eventkit.db import one
from services.eventkit.directory import Directory
from services.eventkit.envelope import format_time, parse_time

from ..domain.relationships import Relationship
from .schema import metadata, replace

participants = sa.Table(
    "participants", metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("status", sa.String(10), nullable=False, server_default="active"),
    sa.Column("availability", sa.JSON, nullable=True),  # half-day slots, for meeting times
)  # fmt: skip
institutions = sa.Table(
    "institutions", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("time_zone", sa.String(64), nullable=False),
)  # fmt: skip
people = sa.Table(
    "people", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
)  # fmt: skip
cycles = sa.Table(
    "cycles", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("pairing_format", sa.String(20), nullable=False),
    sa.Column("review_months", sa.JSON, nullable=False),
    sa.Column("opened_at", sa.String(40), nullable=False),
)  # fmt: skip
staff_roles = sa.Table(
    "staff_roles", metadata,
    sa.Column("grant_key", sa.String(200), primary_key=True),
    sa.Column("person_id", sa.String(36), nullable=False, index=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("program_id", sa.String(36), nullable=True),
)  # fmt: skip
pairs = sa.Table(
    "pairs", metadata,
    sa.Column("pair_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(10), nullable=False),  # active | ended
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("ended_at", sa.String(40), nullable=True),
)  # fmt: skip
# Coaching groups and mentoring families. A family's senior is its `coach_id`; its mid-level
# resident and juniors are its `member_ids`; `roles` says who is which (coach | member for a
# group, senior | mid | junior for a family).
groups = sa.Table(
    "coaching_groups", metadata,
    sa.Column("group_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("coach_id", sa.String(36), nullable=False, index=True),
    sa.Column("member_ids", sa.JSON, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False, server_default="group"),  # group | family
    sa.Column("roles", sa.JSON, nullable=True),
    sa.Column("status", sa.String(10), nullable=False, server_default="active"),
    sa.Column("ended_at", sa.String(40), nullable=True),
)  # fmt: skip

directory = Directory(
    institutions=institutions,
    cycles=cycles,
    people=people,
    enrollments=participants,
    staff_roles=staff_roles,
)
roster = Projection(
    "roster",
    tables=[*directory.tables, pairs, groups],
    handlers=dict(directory.handlers),
    sources=["enrollment", "pairing"],
)


@roster.on("PairCreated")
def _pair(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    replace(
        conn, pairs, pairs.c.pair_id == p["pair_id"],
        pair_id=p["pair_id"], cycle_id=p["cycle_id"], mentee_id=p["mentee_id"],
        mentor_id=p["mentor_id"], status="active", created_at=format_time(e.occurred_at),
    )  # fmt: skip


@roster.on("PairEnded")
def _pair_ended(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        pairs.update()
        .where(pairs.c.pair_id == e.payload["pair_id"])
        .values(status="ended", ended_at=format_time(e.occurred_at))
    )


@roster.on("GroupFormed", "FamilyFormed")
def _group(conn: sa.Connection, e: Envelope) -> None:
    """A group or family, formed or grown by a re-run (same id: it keeps its start date)."""
    p = e.payload
    if e.event_type == "GroupFormed":
        unit_id, kind, lead, members = p["group_id"], "group", p["coach_id"], p["member_ids"]
        roles = {**dict.fromkeys(members, "member"), lead: "coach"}
    else:
        unit_id, kind, lead = p["family_id"], "family", p["senior_id"]
        members = [p["mid_id"], *p["junior_ids"]]
        roles = {**dict.fromkeys(p["junior_ids"], "junior"), p["mid_id"]: "mid", lead: "senior"}
    existing = conn.execute(
        sa.select(groups.c.created_at).where(groups.c.group_id == unit_id)
    ).scalar()
    replace(
        conn, groups, groups.c.group_id == unit_id,
        group_id=unit_id, cycle_id=p["cycle_id"], coach_id=lead, member_ids=sorted(members),
        created_at=existing or format_time(e.occurred_at), kind=kind, roles=roles,
        status="active",
    )  # fmt: skip


@roster.on("GroupEnded", "FamilyEnded")
def _group_ended(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        groups.update()
        .where(groups.c.group_id == (e.payload.get("group_id") or e.payload["family_id"]))
        .values(status="ended", ended_at=format_time(e.occurred_at))
    )


# --- lookups ------------------------------------------------------------------------------------


def cycle(conn: sa.Connection, cycle_id: str) -> sa.RowMapping:
    return one(conn, cycles, "cycle (or its enrollment events have not arrived yet)", id=cycle_id)


def cycle_or_none(conn: sa.Connection, cycle_id: str) -> sa.RowMapping | None:
    return conn.execute(sa.select(cycles).where(cycles.c.id == cycle_id)).mappings().first()


def cycles_by_id(conn: sa.Connection, cycle_ids: Iterable[str]) -> dict[str, sa.RowMapping]:
    ids = set(cycle_ids)
    if not ids:
        return {}
    rows = conn.execute(sa.select(cycles).where(cycles.c.id.in_(ids))).mappings()
    return {x["id"]: x for x in rows}


def cycles_of(conn: sa.Connection, institution_id: str | None) -> list[sa.Row]:
    """Every cycle's id, institution and program (of one institution if given)."""
    query = sa.select(cycles.c.id, cycles.c.institution_id, cycles.c.program_id)
    if institution_id:
        query = query.where(cycles.c.institution_id == institution_id)
    return list(conn.execute(query).all())


def withdrawn(conn: sa.Connection, cycle_id: str) -> set[str]:
    p = participants
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


# Who mentors in a group or family (the rest are its mentees).
LEADING = {"coach", "senior", "mid"}


def group_relationship(row: sa.RowMapping, gone: set[str]) -> Relationship:
    """A coaching group or mentoring family: the coach, or the senior and mid-level, mentor."""
    titles = dict(row.get("roles") or {}) or {
        **dict.fromkeys(row["member_ids"], "member"),
        row["coach_id"]: "coach",
    }
    titles = {p: t for p, t in titles.items() if p not in gone}
    members = {p: "mentor" if t in LEADING else "mentee" for p, t in titles.items()}
    return Relationship(
        id=row["group_id"],
        cycle_id=row["cycle_id"],
        kind=row.get("kind") or "group",
        members=members,
        active=(row.get("status") or "active") == "active"
        and row["coach_id"] not in gone
        and "mentee" in members.values(),
        started_on=parse_time(row["created_at"]).date(),
        titles=titles,
    )


def relationship(conn: sa.Connection, pair_id: str) -> tuple[Relationship, sa.RowMapping]:
    """The pair (or coaching group, or family) with this id and its cycle; 404 if unknown."""
    row = conn.execute(sa.select(pairs).where(pairs.c.pair_id == pair_id)).mappings().first()
    group = None
    if row is None:
        group = (
            conn.execute(sa.select(groups).where(groups.c.group_id == pair_id)).mappings().first()
        )
        if group is None:
            raise NotFound("No such pair, group or family.")
    found = cycle(conn, (row or group)["cycle_id"])
    gone = withdrawn(conn, found["id"])
    rel = pair_relationship(row, gone) if row else group_relationship(group, gone)
    return rel, found


def cycle_relationships(conn: sa.Connection, cycle_id: str) -> list[Relationship]:
    """Every pair, group and family of a cycle (a group's members counted once, as the group)."""
    gone = withdrawn(conn, cycle_id)
    found = conn.execute(sa.select(pairs).where(pairs.c.cycle_id == cycle_id)).mappings()
    grouped_rows = (
        conn.execute(sa.select(groups).where(groups.c.cycle_id == cycle_id)).mappings().all()
    )
    # Cycles published before groups stood alone also have a pair per member: count the group.
    grouped = {(g["coach_id"], m) for g in grouped_rows for m in g["member_ids"]}
    return [
        *(
            pair_relationship(p, gone)
            for p in found
            if (p["mentor_id"], p["mentee_id"]) not in grouped
        ),
        *(group_relationship(g, gone) for g in grouped_rows),
    ]


def relationships_of(
    conn: sa.Connection, person_id: str
) -> list[tuple[Relationship, sa.RowMapping]]:
    """The person's pairs, groups and families, in every cycle, each with its cycle (those whose cycle has
    not arrived yet left out)."""
    ids = list(
        conn.execute(
            sa.select(pairs.c.pair_id).where(
                sa.or_(pairs.c.mentee_id == person_id, pairs.c.mentor_id == person_id)
            )
        ).scalars()
    )
    ids += [
        g.group_id
        for g in conn.execute(sa.select(groups.c.group_id, groups.c.coach_id, groups.c.member_ids))
        if g.coach_id == person_id or person_id in g.member_ids
    ]
    found = []
    for pair_id in ids:
        try:
            rel, its_cycle = relationship(conn, pair_id)
        except NotFound:
            continue  # its cycle has not arrived yet
        if rel.role_of(person_id) is not None:
            found.append((rel, its_cycle))
    return found


def names(conn: sa.Connection, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(people.c.id, people.c.name).where(people.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


def coordinators(conn: sa.Connection, institution_id: str, program_id: str) -> set[str]:
    """Who coordinates the program, or its whole institution."""
    s = staff_roles
    rows = conn.execute(
        sa.select(s.c.person_id).where(
            s.c.role == COORDINATOR,
            s.c.institution_id == institution_id,
            sa.or_(s.c.program_id.is_(None), s.c.program_id == program_id),
        )
    )
    return {r.person_id for r in rows}
