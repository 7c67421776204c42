"""A mentee's objectives and their action plans: set, edited, reordered and their steps planned by
the mentee, their mentor or coach, or a coordinator on their behalf; commented on, and agreed by
the mentor or coach. Every change is an event, so the timeline is kept."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.eventkit.aggregate import DomainError
from services.eventkit.db import one
from services.eventkit.envelope import new_id

from ..domain.objectives import Objective
from ..domain.relationships import Relationship
from ..readmodels import objectives, roster
from .unit_of_work import UnitOfWork


def whose(rel: Relationship, by: str, mentee_id: str | None) -> str:
    """The mentee an objective is for: the one named, else the caller if a mentee, else the
    pair's only mentee ("" when that is ambiguous: the domain then says whom to name)."""
    if mentee_id:
        return mentee_id
    if rel.role_of(by) == "mentee":
        return by
    return rel.mentees[0] if len(rel.mentees) == 1 else ""


def on_behalf(rel: Relationship, by: str) -> bool:
    """The policy lets someone who is not a member through only as a coordinator of the
    program: they act on the members' behalf."""
    return rel.role_of(by) is None


def set_objective(
    uow: UnitOfWork,
    pair_id: str,
    by: str,
    mentee_id: str | None,
    area: str,
    title: str,
    description: str = "",
    due_date: dt.date | None = None,
) -> str:
    """The new objective's id."""
    rel, cycle = roster.relationship(uow.conn, pair_id)
    objective = Objective(new_id())
    objective.set(
        rel, whose(rel, by, mentee_id), area, title, by, description, due_date,
        staff=on_behalf(rel, by),
    )  # fmt: skip
    uow.save_about(objective, cycle["institution_id"])
    return objective.id


def _change(uow: UnitOfWork, objective_id: str, by: str, command: str, **args: Any) -> None:
    """Load the objective, run `command` on it as `by`, and save its new events."""
    row = one(uow.conn, objectives.objectives, "objective", objective_id=objective_id)
    rel, cycle = roster.relationship(uow.conn, row["pair_id"])
    objective = uow.load(Objective, objective_id)
    if command != "agree":
        args["staff"] = on_behalf(rel, by)
    getattr(objective, command)(rel, by=by, **args)
    uow.save_about(objective, cycle["institution_id"])


def update(uow: UnitOfWork, objective_id: str, by: str, status: str, note: str = "") -> None:
    _change(uow, objective_id, by, "update", status=status, note=note)


def edit(uow: UnitOfWork, objective_id: str, by: str, **statement: Any) -> None:
    """`statement`: area, title, description, due_date."""
    _change(uow, objective_id, by, "edit", **statement)


def plan_step(
    uow: UnitOfWork,
    objective_id: str,
    by: str,
    text: str,
    due_date: dt.date | None = None,
    status: str = "not_started",
    step_id: str | None = None,
) -> str:
    """Add a step (no `step_id`) or change one; the step's id."""
    step_id = step_id or new_id()
    _change(
        uow, objective_id, by, "plan_step", step_id=step_id, text=text, due_date=due_date,
        status=status,
    )  # fmt: skip
    return step_id


def comment(uow: UnitOfWork, objective_id: str, by: str, text: str) -> None:
    _change(uow, objective_id, by, "comment", text=text)


def agree(uow: UnitOfWork, objective_id: str, by: str) -> None:
    _change(uow, objective_id, by, "agree")


def move(uow: UnitOfWork, objective_id: str, by: str, offset: int) -> None:
    """Move the objective `offset` places in its mentee's list (-1: up one); the list is
    renumbered 0.. so positions stay distinct."""
    row = one(uow.conn, objectives.objectives, "objective", objective_id=objective_id)
    rel, cycle = roster.relationship(uow.conn, row["pair_id"])
    listed = objectives.with_history(uow.conn, pair_id=row["pair_id"], mentee_id=row["mentee_id"])
    positions = {o["objective_id"]: o["position"] for o in listed}
    ids = list(positions)
    at = ids.index(objective_id)
    to = at + offset
    if not 0 <= to < len(ids):
        raise DomainError("It cannot move further.", "objective_id")
    ids.insert(to, ids.pop(at))
    for position, moved_id in enumerate(ids):
        if positions[moved_id] != position:
            objective = uow.load(Objective, moved_id)
            objective.move(rel, by, position, staff=on_behalf(rel, by))
            uow.save_about(objective, cycle["institution_id"])
