"""What the status page and /readyz show of the suite: each service's liveness, readiness and
counts, each worker's health, and the processes `tandem run` keeps alive.

Every service is asked in parallel, so one slow service costs one timeout, not four; a service
that does not answer is a result here, never an error.
"""

from __future__ import annotations

import dataclasses
import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from services.eventkit import config

from .client import Client, Reply, ServiceError


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


def _get(client: Client, name: str, path: str, token: str | None = None) -> Reply | None:
    """A service's answer to a GET; None when it does not answer."""
    try:
        return client.request(name, "GET", path, token=token)
    except ServiceError:
        return None


def statuses(client: Client, with_counts: bool = True) -> list[ServiceStatus]:
    """Readiness of every service, in configuration order, and its counts if asked for."""
    token = client.system_token()
    with ThreadPoolExecutor(max_workers=2 * len(client.urls) or 1) as pool:
        ready = {name: pool.submit(_get, client, name, "/readyz") for name in client.urls}
        stats = {
            name: pool.submit(_get, client, name, "/api/stats", token)
            for name in (client.urls if with_counts else ())
        }
        return [
            _status(name, ready[name].result(), stats[name].result() if name in stats else None,
                    with_counts)
            for name in client.urls
        ]  # fmt: skip


def alive(client: Client) -> dict[str, bool]:
    """Whether each service's /healthz answers 200."""
    with ThreadPoolExecutor(max_workers=len(client.urls) or 1) as pool:
        probes = {name: pool.submit(_get, client, name, "/healthz") for name in client.urls}
        return {name: _is_200(probe.result()) for name, probe in probes.items()}


def _is_200(reply: Reply | None) -> bool:
    return reply is not None and reply.status == 200


def _status(
    name: str, ready: Reply | None, stats: Reply | None, with_counts: bool = True
) -> ServiceStatus:
    if ready is None and stats is None:
        return ServiceStatus(name, reachable=False, ready=False, problem="Counts unavailable")
    if not with_counts:
        return ServiceStatus(name, reachable=True, ready=_is_200(ready))
    counts, problem = _counts(name, stats)
    return ServiceStatus(name, reachable=True, ready=_is_200(ready), counts=counts, problem=problem)


def _counts(name: str, stats: Reply | None) -> tuple[dict[str, int] | None, str | None]:
    if stats is None:
        return None, "Counts unavailable (no answer)"
    if stats.status != 200:
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


def worker_health(client: Client) -> dict[str, dict]:
    """Each answering worker's /readyz: relay backlog, oldest pending row, parked rows, lag."""

    def probe(name: str) -> dict | None:
        # Beside the service's API, on its port + 100, unless configured otherwise.
        api = urlsplit(config.service_url(name))
        port = config.env_int(f"{name.upper()}_WORKER_HEALTH_PORT", (api.port or 80) + 100)
        url = config.env(f"{name.upper()}_WORKER_URL", f"http://{api.hostname}:{port}")
        try:
            body = client.send(f"{name} worker", "GET", f"{url}/readyz").body
        except ServiceError:
            return None
        return body if isinstance(body, dict) else None

    with ThreadPoolExecutor(max_workers=len(config.SERVICES)) as pool:
        found = dict(zip(config.SERVICES, pool.map(probe, config.SERVICES), strict=True))
    return {name: body for name, body in found.items() if body is not None}


def processes() -> dict[str, dict]:
    """What `tandem run` says of the processes it keeps alive (nothing when it does not run)."""
    try:
        return json.loads((config.var_dir() / "run-status.json").read_text())["children"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
