"""Mentee choice: opening a round, a mentor's answer, and moving on requests past their deadline
(on a route's request or the worker's loop, at the unit of work's clock)."""

from __future__ import annotations

from services.eventkit import DomainError, Metadata
from services.eventkit.db import one
from services.eventkit.envelope import new_id
from services.eventkit.unit_of_work import UnitOfWork

from ..domain import runs
from ..readmodels import tables
from ..readmodels.candidate_pool import load_pool, mentor_capacity
from .cycle_pairing import load, save


def open_choice_round(
    uow: UnitOfWork, cycle_id: str, response_hours: int, min_level_gap: int, meta: Metadata
) -> str:
    """Each mentee's request goes to their first ranked mentor the rules allow; returns the
    round's id."""
    cycle, pairing = load(uow, cycle_id)
    if cycle["pairing_format"] != "one_to_one":
        raise DomainError("Mentee choice is for one-to-one cycles.", "cycle_id")
    mentees, mentors = load_pool(uow.conn, cycle_id)
    rules = runs.rules_for(cycle, {"min_level_gap": min_level_gap}, pairing.level_rules)
    choices = runs.allowed_choices(mentees, mentors, rules)
    capacity = {m.id: m.capacity for m in mentors}
    round_id = new_id()
    pairing.open_choice_round(round_id, choices, capacity, uow.clock(), response_hours)
    save(uow, cycle, pairing, meta)
    return round_id


def answer_request(
    uow: UnitOfWork, request_id: str, accept: bool, reason: str, meta: Metadata
) -> str:
    """The requested mentor accepts (a pair is created) or declines (the request moves down the
    mentee's list); returns the cycle's id."""
    cycle_id = one(uow.conn, tables.requests, "request", request_id=request_id)["cycle_id"]
    cycle, pairing = load(uow, cycle_id)
    pairing.respond(request_id, accept, reason, mentor_capacity(uow.conn, cycle_id), uow.clock())
    save(uow, cycle, pairing, meta)
    return cycle_id


def expire_due(uow: UnitOfWork, cycle_id: str) -> int:
    """Requests past their deadline move on to each mentee's next choice (recorded as the system,
    whoever asked); returns how many expired."""
    cycle, pairing = load(uow, cycle_id)
    expired = pairing.expire_due(mentor_capacity(uow.conn, cycle_id), uow.clock())
    save(uow, cycle, pairing, Metadata(cycle["institution_id"]))
    return expired
