"""Calls from the pages to the services, made as the signed-in user.

Every call carries a short-lived service token minted for the user, so each service checks role
and institution itself. A service that does not answer (or fails with 5xx) raises ServiceDown,
which the app turns into a 503 page; 4xx answers come back as a Reply for the page to explain.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any
from urllib.parse import quote

import requests
from flask import abort, current_app

from services.eventkit.policy import Resource, permits

from . import identity

log = logging.getLogger(__name__)

# Reads answer fast; writes such as a pairing run or a 5,000-row roster take longer.
READ_TIMEOUT_S = 10.0
WRITE_TIMEOUT_S = 120.0


class ServiceDown(Exception):
    """A service did not answer, or failed on its side."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service


@dataclasses.dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    content: bytes = b""
    content_type: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return self.body["message"]
        return f"The request was refused (HTTP {self.status})."

    def field_errors(self) -> dict[str, str]:
        """The first message per field, with nested fields joined by dots ("rows.3.email")."""
        if not isinstance(self.body, dict) or not isinstance(self.body.get("errors"), dict):
            return {}
        found: dict[str, str] = {}
        for location in self.body["errors"].values():  # "json", "query", "form", "files"
            _flatten(location, "", found)
        return found

    def form_errors(self) -> dict[str, str]:
        """The first message per top-level form field ("review_months.0" -> "review_months")."""
        errors: dict[str, str] = {}
        for key, message in self.field_errors().items():
            errors.setdefault(key.split(".")[0], message)
        return errors


def _flatten(node: Any, prefix: str, into: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(node, list) and node and all(isinstance(m, str) for m in node):
        into.setdefault(prefix or "_schema", node[0])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _flatten(value, f"{prefix}.{index}" if prefix else str(index), into)
    elif isinstance(node, str):
        into.setdefault(prefix or "_schema", node)


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
    """One request to a service as the signed-in user."""
    client = current_app.extensions[identity.CLIENT_KEY]
    headers = {"Authorization": f"Bearer {identity.service_token()}", "Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    timeout = READ_TIMEOUT_S if method.upper() == "GET" else WRITE_TIMEOUT_S
    try:
        response = requests.request(
            method,
            client.urls[service] + path,
            json=json,
            params=params,
            data=data,
            headers=headers,
            timeout=timeout,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        log.warning("%s %s%s failed: %s", method, service, path, exc)
        raise ServiceDown(service, "no answer") from exc
    if response.status_code >= 500 or response.status_code == 401:
        # 401 means the web's own token was refused: a configuration problem, not the user's.
        log.warning("%s %s%s answered %s", method, service, path, response.status_code)
        raise ServiceDown(service, f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    return Reply(
        response.status_code,
        body,
        content=response.content,
        content_type=response.headers.get("Content-Type", ""),
    )


def fetch(service: str, path: str, params: dict[str, Any] | None = None) -> Any:
    """GET a body the page cannot do without: 403 and 404 become the web's own pages."""
    reply = call(service, "GET", path, params=params)
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        raise ServiceDown(service, f"HTTP {reply.status}")
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
