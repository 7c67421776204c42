"""What the API serves, read from the projections: the candidate list, the proposal with names,
a cycle's pairs and requests, and which cycles have requests past their deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from services.eventkit import NotFound
from services.eventkit.db import one
from services.eventkit.envelope import format_time

from .tables import candidates as candidates_table
from .tables import conflicts, cycles, pairs, people, proposals, requests, units


def cycle(conn: sa.Connection, cycle_id: str) -> sa.RowMapping:
    return one(conn, cycles, "cycle (or its enrollment events have not arrived yet)", id=cycle_id)


def names(conn: sa.Connection, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(people.c.id, people.c.name).where(people.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


def cycle_names(conn: sa.Connection, cycle_id: str, ids: set[str]) -> dict[str, str]:
    """Names of `ids`, most of them the cycle's candidates: read by joining the cycle's
    candidates rather than listing thousands of ids as parameters; anyone else by id."""
    c = candidates_table
    rows = conn.execute(
        sa.select(people.c.id, people.c.name)
        .join(c, c.c.person_id == people.c.id)
        .where(c.c.cycle_id == cycle_id)
    )
    named = {r.id: r.name for r in rows if r.id in ids}
    return named | names(conn, ids - named.keys())


def candidates(conn: sa.Connection, cycle_id: str) -> list[dict[str, Any]]:
    """The cycle's candidates, each with the conflicts of interest pairing honours for them."""
    c, p = candidates_table, people
    # What the API shows of each: goals, languages, availability and identity stay unread.
    shown = (c.c.enrollment_id, c.c.person_id, c.c.role, c.c.status, c.c.interests,
             c.c.capacity, c.c.ranking, c.c.not_acceptable)  # fmt: skip
    result = conn.execute(
        sa.select(*shown, p.c.name, p.c.training_level)
        .join(p, p.c.id == c.c.person_id, isouter=True)
        .where(c.c.cycle_id == cycle_id)
        .order_by(c.c.role, p.c.name)
    )
    # Plain tuples zipped with the keys once: thousands of rows, and a mapping per row costs more.
    keys = list(result.keys())
    rows = [dict(zip(keys, row, strict=True)) for row in result]
    declared: dict[str, list[dict[str, str]]] = {}
    found = conn.execute(
        sa.select(conflicts)
        .join(c, c.c.enrollment_id == conflicts.c.enrollment_id)
        .where(c.c.cycle_id == cycle_id)
    )
    for r in found:
        declared.setdefault(r.enrollment_id, []).append(
            {"other_person_id": r.other_person_id, "kind": r.kind}
        )
    for r in rows:
        r["conflicts"] = declared.get(r["enrollment_id"], [])
    return rows


def run_settings(conn: sa.Connection, cycle_id: str) -> dict[str, Any]:
    """The settings of the cycle's last run (the defaults if none ran)."""
    return conn.execute(
        sa.select(proposals.c.settings).where(proposals.c.cycle_id == cycle_id)
    ).scalar() or {"min_level_gap": 2, "weights": {}}


def proposal(conn: sa.Connection, cycle_id: str) -> dict:
    row = (
        conn.execute(sa.select(proposals).where(proposals.c.cycle_id == cycle_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("No pairing has been run for this cycle yet.")
    draft = row["draft"] or {"pairs": {}, "unmatched": {}, "blocking_pairs": None}
    pairs, unmatched = draft.get("pairs", {}), draft.get("unmatched", {})
    mentors = {p["mentor_id"] for p in pairs.values()} | {
        p["co_mentor_id"] for p in pairs.values() if p.get("co_mentor_id")
    }
    named = cycle_names(conn, cycle_id, {*pairs, *mentors, *unmatched})
    rank = rank_positions(conn, cycle_id)
    return {
        "cycle_id": cycle_id, "run_id": row["run_id"], "algorithm": row["algorithm"],
        "status": row["status"], "settings": row["settings"], "excluded": row["excluded"],
        "blocking_pairs": draft.get("blocking_pairs"),
        "total_score": round(sum(p["score"] for p in pairs.values()), 4),
        "pairs": sorted(
            ({"mentee_id": m, "mentee_name": named.get(m), "mentor_name": named.get(p["mentor_id"]),
              "co_mentor_name": named.get(p.get("co_mentor_id")), **p,
              "mentee_rank": rank("mentee", m, p["mentor_id"]),
              "mentor_rank": rank("mentor", p["mentor_id"], m)}
             for m, p in pairs.items()),
            key=lambda p: (p["mentor_name"] or "", p["mentee_name"] or ""),
        ),
        "unmatched": [{"person_id": k, "name": named.get(k), "reason": v} for k, v in sorted(unmatched.items())],
        "families": draft.get("families", []),
    }  # fmt: skip


def rank_positions(conn: sa.Connection, cycle_id: str) -> Callable[[str, str, str], int | None]:
    """(role, who, whom) -> where `who`, as mentee or mentor, ranked `whom`, 1 for their first
    choice, or None: by person ids, from the cycle's current rankings (both sides')."""
    c = candidates_table
    rows = conn.execute(
        sa.select(c.c.enrollment_id, c.c.person_id, c.c.role, c.c.ranking).where(
            c.c.cycle_id == cycle_id
        )
    ).all()
    person_of = {r.enrollment_id: r.person_id for r in rows}
    places: dict[tuple[str, str], dict[str, int]] = {}
    for r in rows:
        listed = [person_of[e] for e in r.ranking or [] if e in person_of]
        places[(r.role, r.person_id)] = {
            whom: n for n, whom in reversed(list(enumerate(listed, 1)))
        }

    def rank(role: str, who: str, whom: str) -> int | None:
        return places.get((role, who), {}).get(whom)

    return rank


def _with_names(conn: sa.Connection, rows: list[sa.RowMapping]) -> list[dict]:
    named = names(conn, {r["mentee_id"] for r in rows} | {r["mentor_id"] for r in rows})
    return [
        {**r, "mentee_name": named.get(r["mentee_id"]), "mentor_name": named.get(r["mentor_id"])}
        for r in rows
    ]


def pair_rows(conn: sa.Connection, cycle_id: str) -> list[sa.RowMapping]:
    """A cycle's published pairs as stored."""
    return list(conn.execute(sa.select(pairs).where(pairs.c.cycle_id == cycle_id)).mappings().all())


def cycle_pairs(conn: sa.Connection, cycle_id: str, person_id: str | None = None) -> list[dict]:
    """The cycle's pairs with names; with `person_id`, only those they are mentee or mentor of."""
    if person_id is None:
        return _with_names(conn, pair_rows(conn, cycle_id))
    query = sa.select(pairs).where(
        pairs.c.cycle_id == cycle_id,
        sa.or_(pairs.c.mentee_id == person_id, pairs.c.mentor_id == person_id),
    )
    return _with_names(conn, list(conn.execute(query).mappings().all()))


def pair(conn: sa.Connection, cycle_id: str, pair_id: str) -> dict:
    return next(p for p in cycle_pairs(conn, cycle_id) if p["pair_id"] == pair_id)


# The order members are listed in: who leads first, then by name.
ROLE_ORDER = {"coach": 0, "senior": 0, "mid": 1, "member": 2, "junior": 2}


def unit_rows(conn: sa.Connection, cycle_id: str) -> list[sa.RowMapping]:
    return list(conn.execute(sa.select(units).where(units.c.cycle_id == cycle_id)).mappings())


def cycle_units(conn: sa.Connection, cycle_id: str) -> list[dict]:
    """The cycle's published groups and families, each with its members named and their roles
    (coach and members; senior, mid-level and juniors)."""
    rows = unit_rows(conn, cycle_id)
    named = names(conn, {m for r in rows for m in r["member_ids"]})
    found = []
    for r in rows:
        members = sorted(
            ({"person_id": m, "name": named.get(m), "role": r["roles"].get(m)}
             for m in r["member_ids"]),
            key=lambda x: (ROLE_ORDER.get(x["role"], 3), x["name"] or ""),
        )  # fmt: skip
        found.append({**r, "unit_id": r["unit_id"], "members": members})
    return sorted(found, key=lambda u: (u["status"] != "active", u["members"][0]["name"] or ""))


def unit(conn: sa.Connection, cycle_id: str, unit_id: str) -> dict:
    return next(u for u in cycle_units(conn, cycle_id) if u["unit_id"] == unit_id)


def cycle_requests(conn: sa.Connection, cycle_id: str) -> list[dict]:
    r = requests
    query = sa.select(r).where(r.c.cycle_id == cycle_id)
    return _with_names(conn, list(conn.execute(query.order_by(r.c.mentee_id, r.c.rank)).mappings()))


def cycles_with_waiting_requests(conn: sa.Connection, now: dt.datetime) -> list[str]:
    # Deadlines are stored in one fixed ISO format (format_time), so they compare as text.
    rows = conn.execute(
        sa.select(requests.c.cycle_id)
        .where(requests.c.status == "pending", requests.c.deadline <= format_time(now))
        .distinct()
    )
    return [r.cycle_id for r in rows]
