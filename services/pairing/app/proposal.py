"""Coordinators' edits to the draft proposal, and publishing it."""

from __future__ import annotations

from typing import Any

from services.eventkit import Metadata
from services.eventkit.unit_of_work import UnitOfWork

from ..domain import runs
from ..readmodels import views
from ..readmodels.candidate_pool import load_pool
from .cycle_pairing import load, save


def edit_proposal(uow: UnitOfWork, cycle_id: str, edit: dict[str, Any], meta: Metadata) -> None:
    """Swap, move, unassign, pin, unpin, exclude or include, each with a recorded reason; a pair
    an edit makes is checked against the last run's rules and scored."""
    cycle, pairing = load(uow, cycle_id)
    mentees, mentors = load_pool(uow.conn, cycle_id)
    check = runs.pair_checker(
        mentees,
        mentors,
        runs.rules_for(cycle, views.run_settings(uow.conn, cycle_id), pairing.level_rules),
    )
    capacity = {m.id: m.capacity for m in mentors}
    pairing.edit(
        edit["action"], edit["person_id"], edit["reason"], check, lambda m: capacity.get(m, 0),
        mentor_id=edit.get("mentor_id"), other_mentee_id=edit.get("other_mentee_id"),
    )  # fmt: skip
    save(uow, cycle, pairing, meta)


def publish(uow: UnitOfWork, cycle_id: str, meta: Metadata) -> None:
    """The draft's pairs become real (participants are told by notifications)."""
    cycle, pairing = load(uow, cycle_id)
    pairing.publish()
    save(uow, cycle, pairing, meta)
