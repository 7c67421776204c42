"""Notifications' use cases: load an aggregate, apply its rule, save it, on a unit of work the
routes, the consumer's reactions and the worker's loops each open.

`create_app` is the WSGI entry point (`services.notifications.app:create_app()`)."""

from __future__ import annotations


def create_app(database_url: str | None = None):
    # Imported here: the service declaration wires these use cases into its worker.
    from services.eventkit.http import create_service_app

    from ..service import SERVICE

    return create_service_app(SERVICE, database_url)
