"""Calls from the pages to the services, made as the signed-in user.

Every call carries a short-lived service token minted for the user, so each service checks role
and institution itself. A service that does not answer (or fails with 5xx) raises ServiceError,
which the app turns into a 503 page; 4xx answers come back as a Reply for the page to explain.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from flask import abort

from services.eventkit.policy import Resource, permits

from . import client, identity
from .client import Reply, ServiceError

log = logging.getLogger(__name__)

# Reads answer fast; writes such as a pairing run or a 5,000-row roster take longer.
READ_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 120.0


def call(
    service: str,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, Any] | None = None,
    data: bytes | None = None,
    content_type: str | None = None,
) -> Reply:
    """One request to a service as the signed-in user. A GET's answer may be one kept from an
    earlier page (the service said it had not changed): pages read answers, never change them."""
    user = identity.current_user()
    reply = client.current().request(
        service,
        method,
        path,
        token=identity.service_token(user),
        caller=user and user.principal,
        timeout_s=READ_TIMEOUT_S if method.upper() == "GET" else WRITE_TIMEOUT_S,
        json=json,
        params=params,
        data=data,
        content_type=content_type,
    )
    if reply.status >= 500 or reply.status == 401:
        # 401 means the web's own token was refused: a configuration problem, not the user's.
        log.warning("%s %s%s answered %s", method, service, path, reply.status)
        raise ServiceError(service, f"HTTP {reply.status}")
    return reply


def fetch(service: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """GET a body the page cannot do without: 403 and 404 become the web's own pages."""
    reply = call(service, "GET", path, params=params)
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        raise ServiceError(service, f"HTTP {reply.status}")
    return reply.body


def fetch_or(service: str, path: str, default: Any, params: dict[str, Any] | None = None) -> Any:
    """GET a body the page can do without: `default` when refused or missing."""
    reply = call(service, "GET", path, params=params)
    return reply.body if reply.ok else default


def seg(value: str) -> str:
    """A value from the request made safe as one segment of a service path."""
    return quote(value, safe="")


def can(
    permission: str,
    institution_id: str | None = None,
    program_id: str | None = None,
    people: tuple[str, ...] = (),
) -> bool:
    """Whether the signed-in user may do this, by the services' own policy: pages show only
    the actions that would be allowed."""
    user = identity.current_user()
    resource = Resource(institution_id, program_id, frozenset(people))
    return user is not None and permits(user.principal, permission, resource)


def staff_cycle(cycle_id: str) -> dict:
    """The cycle, or 403/404 unless the user coordinates its program (or is its admin)."""
    cycle = fetch("enrollment", f"/api/cycles/{seg(cycle_id)}")
    if not can("cycle.roster", cycle["institution_id"], cycle["program_id"]):
        abort(403)
    return cycle


def staff_institutions() -> list[dict]:
    """Institutions the user is staff of (every one for the consortium admin)."""
    return [
        i for i in fetch("enrollment", "/api/institutions") if can("institution.staff", i["id"])
    ]
