"""Read-only calls from the web to the services: liveness, readiness, aggregate counts, and the
enrollment look-ups sign-in needs (a person by email, the roles a person holds)."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote, urlencode

import requests

from services.eventkit.auth import Grant, TokenSigner, system_principal

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 2.0
LOOKUP_TOKEN_TTL_S = 60


class ServiceUnavailable(Exception):
    """A service did not answer, or answered something the web cannot use."""


@dataclasses.dataclass(frozen=True)
class Person:
    id: str
    name: str
    institution_id: str
    email: str


@dataclasses.dataclass(frozen=True)
class Probe:
    """One HTTP answer from a service, or the fact that none came."""

    reachable: bool
    status: int | None = None
    body: Any = None

    @property
    def ok(self) -> bool:
        return self.status == 200


UNREACHABLE = Probe(reachable=False)


@dataclasses.dataclass(frozen=True)
class ServiceStatus:
    """What the status page shows for one service. `problem` is safe to display."""

    name: str
    reachable: bool
    ready: bool
    counts: dict[str, int] | None = None
    problem: str | None = None

    @property
    def state(self) -> str:
        if not self.reachable:
            return "unreachable"
        return "ready" if self.ready else "not-ready"

    @property
    def label(self) -> str:
        return {"unreachable": "Unreachable", "ready": "Ready", "not-ready": "Not ready"}[
            self.state
        ]


class ServicesClient:
    """Calls every service in parallel, so one slow service costs one timeout, not four."""

    def __init__(
        self,
        urls: Mapping[str, str],
        signer: TokenSigner,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.timeout_s = timeout_s
        self._signer = signer

    def statuses(self) -> list[ServiceStatus]:
        """Readiness and counts of every service, in configuration order."""
        token = self._signer.mint(system_principal())
        with ThreadPoolExecutor(max_workers=2 * len(self.urls) or 1) as pool:
            ready = {name: pool.submit(self.get, name, "/readyz") for name in self.urls}
            stats = {name: pool.submit(self.get, name, "/api/stats", token) for name in self.urls}
            return [_status(name, ready[name].result(), stats[name].result()) for name in self.urls]

    def alive(self) -> dict[str, bool]:
        """Whether each service's /healthz answers 200."""
        with ThreadPoolExecutor(max_workers=len(self.urls) or 1) as pool:
            probes = {name: pool.submit(self.get, name, "/healthz") for name in self.urls}
            return {name: probe.result().ok for name, probe in probes.items()}

    def person_by_email(self, email: str) -> Person | None:
        """The enrollment record with this email; None if there is none."""
        probe = self.get(
            "enrollment", "/api/people/by-email?" + urlencode({"email": email}), self._system()
        )
        if probe.status in (404, 422):
            return None
        body = _expect_ok(probe, dict)
        try:
            return Person(
                str(body["id"]), str(body["name"]), str(body["institution_id"]), str(body["email"])
            )
        except KeyError as exc:
            raise ServiceUnavailable(f"enrollment answered without {exc}") from exc

    def grants_of(self, person_id: str) -> tuple[Grant, ...] | None:
        """Every role the person holds; None if enrollment does not know the person."""
        probe = self.get(
            "enrollment", f"/api/people/{quote(person_id, safe='')}/grants", self._system()
        )
        if probe.status == 404:
            return None
        grants = []
        for item in _expect_ok(probe, list):
            if not isinstance(item, dict) or not isinstance(item.get("role"), str):
                raise ServiceUnavailable("enrollment answered an unexpected grant")
            grants.append(Grant(item["role"], item.get("institution_id"), item.get("program_id")))
        return tuple(grants)

    def institutions(self, token: str) -> dict[str, str]:
        """Names of the institutions the token's user belongs to, by id ({} if unavailable)."""
        probe = self.get("enrollment", "/api/institutions", token)
        if not probe.ok or not isinstance(probe.body, list):
            return {}
        return {
            str(i["id"]): str(i["name"])
            for i in probe.body
            if isinstance(i, dict) and "id" in i and "name" in i
        }

    def _system(self) -> str:
        return self._signer.mint(system_principal(), ttl_seconds=LOOKUP_TOKEN_TTL_S)

    def get(self, name: str, path: str, token: str | None = None) -> Probe:
        """GET a service path; a network failure becomes an unreachable probe, never an error."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = requests.get(
                self.urls[name] + path,
                headers=headers,
                timeout=self.timeout_s,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            log.info("%s%s unreachable: %s", name, path, exc)
            return UNREACHABLE
        try:
            body = response.json()
        except ValueError:
            body = None
        return Probe(reachable=True, status=response.status_code, body=body)


def _expect_ok(probe: Probe, kind: type) -> Any:
    if not probe.reachable:
        raise ServiceUnavailable("no answer")
    if not probe.ok or not isinstance(probe.body, kind):
        raise ServiceUnavailable(f"HTTP {probe.status}")
    return probe.body


def _status(name: str, ready: Probe, stats: Probe) -> ServiceStatus:
    if not (ready.reachable or stats.reachable):
        return ServiceStatus(name, reachable=False, ready=False, problem="Counts unavailable")
    counts, problem = _counts(name, stats)
    return ServiceStatus(name, reachable=True, ready=ready.ok, counts=counts, problem=problem)


def _counts(name: str, stats: Probe) -> tuple[dict[str, int] | None, str | None]:
    if not stats.reachable:
        return None, "Counts unavailable (no answer)"
    if not stats.ok:
        return None, f"Counts unavailable (HTTP {stats.status})"
    body = stats.body
    if not isinstance(body, dict) or not isinstance(body.get("counts"), dict):
        return None, "Counts unavailable (unexpected answer)"
    if body.get("service") != name:
        # A URL pointing at the wrong service would otherwise show its numbers under this name.
        return None, f"Counts unavailable (answers as {str(body.get('service'))[:40]!r})"
    counts = {
        key: value
        for key, value in body["counts"].items()
        if isinstance(key, str) and isinstance(value, int) and not isinstance(value, bool)
    }
    return counts, None
