"""Objectives with every change of their status (feedback's own events), and the lookups."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.eventkit import Envelope
from services.eventkit.envelope import format_time
from services.eventkit.projections import Handler

from .schema import metadata

objectives = sa.Table(
    "objectives", metadata,
    sa.Column("objective_id", sa.String(36), primary_key=True),
    sa.Column("pair_id", sa.String(36), nullable=False, index=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
    sa.Column("area", sa.String(20), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("due_date", sa.String(10), nullable=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("set_by", sa.String(36), nullable=False),
    sa.Column("set_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)  # fmt: skip
objective_history = sa.Table(
    "objective_history", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("objective_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("changed_by", sa.String(36), nullable=False),
    sa.Column("changed_at", sa.String(40), nullable=False),
)  # fmt: skip


def _history(conn: sa.Connection, e: Envelope, status: str, note: str, by: str) -> None:
    conn.execute(objective_history.insert().values(
        event_id=e.event_id, objective_id=e.payload["objective_id"], status=status, note=note,
        changed_by=by, changed_at=format_time(e.occurred_at),
    ))  # fmt: skip


def _set(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    at = format_time(e.occurred_at)
    conn.execute(objectives.insert().values(
        objective_id=p["objective_id"], pair_id=p["pair_id"], cycle_id=p["cycle_id"],
        mentee_id=p["mentee_id"], area=p["area"], title=p["title"], description=p["description"],
        due_date=p["due_date"], status="open", set_by=p["set_by"], set_at=at, updated_at=at,
    ))  # fmt: skip
    _history(conn, e, "open", "", p["set_by"])


def _updated(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        objectives.update()
        .where(objectives.c.objective_id == p["objective_id"])
        .values(status=p["status"], updated_at=format_time(e.occurred_at))
    )
    _history(conn, e, p["status"], p["note"], p["updated_by"])


handlers: dict[str, Handler] = {"ObjectiveSet": _set, "ObjectiveUpdated": _updated}


# --- lookups ------------------------------------------------------------------------------------


def with_history(conn: sa.Connection, **where: str) -> list[dict[str, Any]]:
    """The objectives matching `where` (column=value), oldest first, each with its history."""
    o, h = objectives, objective_history
    query = sa.select(o).order_by(o.c.set_at)
    for column, value in where.items():
        query = query.where(o.c[column] == value)
    rows = conn.execute(query).mappings().all()
    history: dict[str, list] = {}
    if rows:
        for entry in conn.execute(
            sa.select(h)
            .where(h.c.objective_id.in_([r["objective_id"] for r in rows]))
            .order_by(h.c.changed_at)
        ).mappings():
            history.setdefault(entry["objective_id"], []).append(entry)
    return [{**r, "history": history.get(r["objective_id"], [])} for r in rows]


def objective(conn: sa.Connection, objective_id: str) -> dict[str, Any]:
    return with_history(conn, objective_id=objective_id)[0]


def of_cycle(conn: sa.Connection, cycle_id: str) -> list[dict[str, Any]]:
    """What health counts of each of the cycle's objectives."""
    o = objectives
    return [
        {"pair_id": r.pair_id, "mentee_id": r.mentee_id, "status": r.status}
        for r in conn.execute(sa.select(o).where(o.c.cycle_id == cycle_id))
    ]
