"""What signing in asks enrollment, as the system: a person by email, the roles a person holds,
the institutions. Each raises ServiceError when enrollment cannot answer."""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from services.eventkit.auth import Grant

from .client import Client, ServiceError

SERVICE = "enrollment"


@dataclasses.dataclass(frozen=True)
class Person:
    id: str
    name: str
    institution_id: str
    email: str


def person_by_email(client: Client, email: str) -> Person | None:
    """The enrollment record with this email; None if there is none."""
    reply = client.request(
        SERVICE, "GET", "/api/people/by-email", params={"email": email}, token=client.system_token()
    )
    if reply.status in (404, 422):
        return None
    return _person(reply.expect(SERVICE, dict))


def person_by_id(client: Client, person_id: str) -> Person | None:
    """The enrollment record of this person; None if there is none."""
    reply = client.request(
        SERVICE, "GET", f"/api/people/{quote(person_id, safe='')}", token=client.system_token()
    )
    if reply.status == 404:
        return None
    return _person(reply.expect(SERVICE, dict))


def _person(body: dict) -> Person:
    try:
        return Person(
            str(body["id"]), str(body["name"]), str(body["institution_id"]), str(body["email"])
        )
    except KeyError as exc:
        raise ServiceError(SERVICE, f"answered without {exc}") from exc


def grants_of(client: Client, person_id: str) -> tuple[Grant, ...] | None:
    """Every role the person holds; None if enrollment does not know the person."""
    reply = client.request(
        SERVICE,
        "GET",
        f"/api/people/{quote(person_id, safe='')}/grants",
        token=client.system_token(),
    )
    if reply.status == 404:
        return None
    grants = []
    for item in reply.expect(SERVICE, list):
        if not isinstance(item, dict) or not isinstance(item.get("role"), str):
            raise ServiceError(SERVICE, "answered an unexpected grant")
        grants.append(Grant(item["role"], item.get("institution_id"), item.get("program_id")))
    return tuple(grants)


def institutions(client: Client, token: str | None = None) -> list[dict]:
    """The institutions the token's user belongs to (every one for the system)."""
    reply = client.request(
        SERVICE, "GET", "/api/institutions", token=token or client.system_token()
    )
    return [i for i in reply.expect(SERVICE, list) if isinstance(i, dict) and "id" in i]


def institution_names(client: Client, token: str) -> dict[str, str]:
    """Names of the institutions the token's user belongs to, by id ({} if unavailable)."""
    try:
        found = institutions(client, token)
    except ServiceError:
        return {}
    return {str(i["id"]): str(i["name"]) for i in found if "name" in i}
