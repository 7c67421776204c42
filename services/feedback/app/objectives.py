"""A mentee's objectives: set by a member of the pair, their status changed with a note."""

from __future__ import annotations

import datetime as dt

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
    objective.set(rel, whose(rel, by, mentee_id), area, title, by, description, due_date)
    uow.save_about(objective, cycle["institution_id"])
    return objective.id


def update(uow: UnitOfWork, objective_id: str, by: str, status: str, note: str = "") -> None:
    row = one(uow.conn, objectives.objectives, "objective", objective_id=objective_id)
    rel, cycle = roster.relationship(uow.conn, row["pair_id"])
    objective = uow.load(Objective, objective_id)
    objective.update(rel, status, by, note)
    uow.save_about(objective, cycle["institution_id"])
