"""What a service's route reads from the request it serves: the runtime, the caller, and the
metadata of the events it appends. The app factory (`http.py`) sets them up."""

from __future__ import annotations

from flask import current_app, g, request

from .auth import Principal
from .envelope import Metadata, new_id
from .service import Runtime


def runtime() -> Runtime:
    return current_app.extensions["tandem"]


def principal() -> Principal:
    return g.principal


def request_meta(institution_id: str | None) -> Metadata:
    """Who is acting and under which correlation id (X-Correlation-ID is carried through)."""
    correlation = request.headers.get("X-Correlation-ID", "").strip()[:36] or new_id()
    return Metadata(
        institution_id=institution_id, actor=principal().actor(), correlation_id=correlation
    )
