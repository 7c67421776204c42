"""Enrollment's use cases: load the aggregates, apply their rules with what the read models know
(uniqueness, existing people and enrollments), save them, on a unit of work the routes open.

`create_app` is the WSGI entry point (`services.enrollment.app:create_app()`)."""

from __future__ import annotations


def create_app(database_url: str | None = None):
    # Imported here: the service declaration wires the routes that call these use cases.
    from services.eventkit.http import create_service_app

    from ..service import SERVICE

    return create_service_app(SERVICE, database_url)
