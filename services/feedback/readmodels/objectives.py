"""Objectives with their action plans, and the timeline of every change (feedback's own events),
and the lookups."""

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
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("steps", sa.JSON, nullable=False, server_default="[]"),  # in the order planned
    sa.Column("agreed_by", sa.String(36), nullable=True),  # cleared when the objective is edited
    sa.Column("agreed_at", sa.String(40), nullable=True),
)  # fmt: skip
objective_history = sa.Table(
    "objective_history", metadata,
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("objective_id", sa.String(36), nullable=False, index=True),
    sa.Column("status", sa.String(12), nullable=False),  # "" when the status did not change
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("kind", sa.String(12), nullable=False, server_default="status"),
    sa.Column("changed_by", sa.String(36), nullable=False),
    sa.Column("changed_at", sa.String(40), nullable=False),
)  # fmt: skip


def _history(
    conn: sa.Connection, e: Envelope, status: str, note: str, by: str, kind: str = "status"
) -> None:
    """One entry of the timeline (`kind`: set, status, edited, step, comment or agreed)."""
    conn.execute(objective_history.insert().values(
        event_id=e.event_id, objective_id=e.payload["objective_id"], status=status, note=note,
        kind=kind, changed_by=by, changed_at=format_time(e.occurred_at),
    ))  # fmt: skip


def _change(conn: sa.Connection, e: Envelope, **values: Any) -> None:
    o = objectives
    conn.execute(
        o.update()
        .where(o.c.objective_id == e.payload["objective_id"])
        .values(updated_at=format_time(e.occurred_at), **values)
    )


def _set(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    at = format_time(e.occurred_at)
    o = objectives
    last = conn.execute(
        sa.select(sa.func.max(o.c.position)).where(
            o.c.pair_id == p["pair_id"], o.c.mentee_id == p["mentee_id"]
        )
    ).scalar()
    conn.execute(o.insert().values(
        objective_id=p["objective_id"], pair_id=p["pair_id"], cycle_id=p["cycle_id"],
        mentee_id=p["mentee_id"], area=p["area"], title=p["title"], description=p["description"],
        due_date=p["due_date"], status="open", set_by=p["set_by"], set_at=at, updated_at=at,
        position=0 if last is None else last + 1, steps=[],
    ))  # fmt: skip
    _history(conn, e, "open", p["title"], p["set_by"], "set")


def _updated(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _change(conn, e, status=p["status"])
    _history(conn, e, p["status"], p["note"], p["updated_by"])


def _edited(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _change(
        conn, e, area=p["area"], title=p["title"], description=p["description"],
        due_date=p["due_date"], agreed_by=None, agreed_at=None,
    )  # fmt: skip
    _history(conn, e, "", p["title"], p["edited_by"], "edited")


def _moved(conn: sa.Connection, e: Envelope) -> None:
    _change(conn, e, position=e.payload["position"])


def _step(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    o = objectives
    steps = conn.execute(
        sa.select(o.c.steps).where(o.c.objective_id == p["objective_id"])
    ).scalar_one()
    step = {k: p[k] for k in ("step_id", "text", "due_date", "status")}
    replaced = [step if s["step_id"] == p["step_id"] else s for s in steps]
    _change(conn, e, steps=replaced if step in replaced else [*steps, step])
    note = f"{p['text']}: {p['status'].replace('_', ' ')}"
    _history(conn, e, "", note, p["planned_by"], "step")


def _commented(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _history(conn, e, "", p["text"], p["commented_by"], "comment")


def _agreed(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    _change(conn, e, agreed_by=p["agreed_by"], agreed_at=format_time(e.occurred_at))
    _history(conn, e, "", "", p["agreed_by"], "agreed")


handlers: dict[str, Handler] = {
    "ObjectiveSet": _set, "ObjectiveUpdated": _updated, "ObjectiveEdited": _edited,
    "ObjectiveMoved": _moved, "ActionStepPlanned": _step, "ObjectiveCommented": _commented,
    "ObjectiveAgreed": _agreed,
}  # fmt: skip


# --- lookups ------------------------------------------------------------------------------------


def with_history(conn: sa.Connection, **where: str) -> list[dict[str, Any]]:
    """The objectives matching `where` (column=value), each mentee's in their order, each with
    its timeline."""
    o, h = objectives, objective_history
    query = sa.select(o).order_by(o.c.mentee_id, o.c.position, o.c.set_at)
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
        {
            "pair_id": r.pair_id, "mentee_id": r.mentee_id, "status": r.status, "area": r.area,
            "steps": [s["status"] for s in r.steps],
        }
        for r in conn.execute(sa.select(o).where(o.c.cycle_id == cycle_id))
    ]  # fmt: skip


def ids_of_pair(conn: sa.Connection, pair_id: str) -> set[str]:
    o = objectives
    return set(conn.execute(sa.select(o.c.objective_id).where(o.c.pair_id == pair_id)).scalars())
