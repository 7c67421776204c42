"""Pairing's use cases: load the cycle's pairing, apply its rule with what the read models know,
save it, on a unit of work that the routes and the worker's deadline loop each open (with its
clock). Running pairing is one use case, in `runs`.

`create_app` is the WSGI entry point (`services.pairing.app:create_app()`)."""

from __future__ import annotations


def create_app(database_url: str | None = None):
    # Imported here: the service declaration wires these use cases into its worker.
    from services.eventkit.http import create_service_app

    from ..service import SERVICE

    return create_service_app(SERVICE, database_url)
