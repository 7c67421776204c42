"""The consumer's read model of enrollment, pairing and feedback events: what notifications knows
of their records, and the notices and timers each event sets off."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from services.eventkit import Envelope, EventStore, Projection
from services.eventkit.projections import Handler

from ..readmodels.directory import directory
from ..readmodels.meeting_reminders import meeting_reminders
from ..readmodels.tables import (
    concerns,
    invitations,
    pair_members,
    pair_watch,
    survey_answers,
    survey_reminders,
    waiting,
)
from . import on_enrollment, on_feedback, on_meeting_requests, on_pairing
from .unit_of_work import UnitOfWork
from .waiting import Reaction


def _on_connection(handler: Handler) -> Reaction:
    return lambda uow, e: handler(uow.conn, e)


REACTIONS: dict[str, Reaction] = {
    **{event_type: _on_connection(h) for event_type, h in directory.handlers.items()},
    **on_enrollment.reactions.handlers,
    **on_pairing.reactions.handlers,
    **on_feedback.reactions.handlers,
    **on_meeting_requests.reactions.handlers,
}
# The record each event makes known, by its payload field: reactions parked for it run then.
KNOWN_BY = {
    "InstitutionAdded": "institution_id",
    "PersonRegistered": "person_id",
    "ProgramCreated": "program_id",
    "CycleOpened": "cycle_id",
    "PairCreated": "pair_id",
    "GroupFormed": "group_id",
    "FamilyFormed": "family_id",
    "ConcernRaised": "concern_id",
}


def react(uow: UnitOfWork, e: Envelope) -> None:
    reaction = REACTIONS.get(e.event_type)
    if reaction is None:
        return
    reaction(uow, e)
    if e.event_type in KNOWN_BY:
        _wake(uow, e.payload[KNOWN_BY[e.event_type]])


def _wake(uow: UnitOfWork, known_id: str) -> None:
    """Run again the reactions that waited for `known_id` (each may park again for something
    else)."""
    parked = uow.conn.execute(sa.select(waiting).where(waiting.c.waiting_for == known_id)).all()
    for row in parked:
        uow.conn.execute(waiting.delete().where(waiting.c.event_id == row.event_id))
        react(uow, Envelope.from_json(row.event.encode()))


def reactions(events: Callable[[], EventStore]) -> Projection:
    """The projection the worker's consumer applies; `events` gives the service's event store,
    which the notices are appended to."""
    projection = Projection(
        "reactions",
        tables=[
            *directory.tables,
            pair_members,
            waiting,
            concerns,
            invitations,
            survey_reminders,
            survey_answers,
            pair_watch,
            meeting_reminders,
        ],
        sources=["enrollment", "pairing", "feedback"],
    )

    def apply(conn: sa.Connection, e: Envelope) -> None:
        react(UnitOfWork(conn, events()), e)

    for event_type in REACTIONS:
        projection.on(event_type)(apply)
    return projection
