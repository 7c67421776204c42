"""WSGI entry point: `services.notifications.app:create_app()`."""

from services.eventkit.http import create_service_app

from .service import SERVICE


def create_app(database_url: str | None = None):
    return create_service_app(SERVICE, database_url)
