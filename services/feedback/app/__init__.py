"""Feedback's use cases: load an aggregate, apply its rule with what the read models know, save
it, on a unit of work (its connection, the event store and the clock). The routes and the
worker's loops (survey issuing, concern deadlines) call the same ones.

`create_app` is the WSGI entry point (`services.feedback.app:create_app()`)."""

from __future__ import annotations

from services.eventkit.envelope import utcnow

from .unit_of_work import Clock


def create_app(database_url: str | None = None, clock: Clock = utcnow):
    """The API; its routes read the time from `clock` (tests pass one they move on)."""
    # Imported here: the service declaration wires these use cases into its worker.
    from services.eventkit.http import create_service_app

    from ..service import SERVICE

    app = create_service_app(SERVICE, database_url)
    app.extensions["feedback.clock"] = clock
    return app
