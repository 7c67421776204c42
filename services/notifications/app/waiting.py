"""Reactions to other services' events, and what they do when something they need is not known.

An event may arrive before what it refers to (another stream, so maybe another partition): the
reaction is parked in `waiting` until the missing person, program, cycle, institution, pair or
concern is known, then run again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from services.eventkit import Envelope

from ..readmodels import directory
from ..readmodels.tables import waiting
from .unit_of_work import UnitOfWork

Reaction = Callable[[UnitOfWork, Envelope], None]


class NotReady(Exception):
    """Something a notification needs is not known yet."""

    def __init__(self, missing_id: str) -> None:
        super().__init__(missing_id)
        self.missing_id = missing_id


class Reactions:
    """Reactions by event type."""

    def __init__(self) -> None:
        self.handlers: dict[str, Reaction] = {}

    def on(self, *event_types: str) -> Callable[[Reaction], Reaction]:
        def register(reaction: Reaction) -> Reaction:
            for event_type in event_types:
                self.handlers[event_type] = reaction
            return reaction

        return register


def notifying(reaction: Reaction) -> Reaction:
    """A reaction that gathers everything first, then queues; parked while something is missing."""

    def react(uow: UnitOfWork, e: Envelope) -> None:
        try:
            reaction(uow, e)
        except NotReady as missing:
            uow.conn.execute(
                waiting.insert().values(
                    event_id=e.event_id, waiting_for=missing.missing_id, event=e.to_json().decode()
                )
            )

    react.__name__ = reaction.__name__
    return react


# --- what a notice needs, or NotReady -----------------------------------------------------------


def program_of(uow: UnitOfWork, program_id: str) -> dict[str, Any]:
    program = directory.program(uow.conn, program_id)
    if program is None:
        raise NotReady(program_id)
    return program


def cycle_context(uow: UnitOfWork, cycle_id: str) -> tuple[dict[str, Any], str]:
    """The cycle's program, and the cycle's meeting expectations."""
    cycle = directory.cycle(uow.conn, cycle_id)
    if cycle is None:
        raise NotReady(cycle_id)
    return program_of(uow, cycle.program_id), cycle.meeting_expectations


def ready(uow: UnitOfWork, person_id: str) -> dict[str, Any]:
    """The person and their institution, both known."""
    person = directory.person(uow.conn, person_id)
    if person is None:
        raise NotReady(person_id)
    if not directory.institution_known(uow.conn, person["institution_id"]):
        raise NotReady(person["institution_id"])
    return person
