"""`tandem status`: every process of a running suite, as its /readyz answers: readiness, the
relay's backlog and parked rows, consumer lag and dead-lettered messages."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from services.eventkit import config
from services.eventkit.broker import port_open
from services.eventkit.worker import worker_health_port


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    url: str
    ready: bool
    answered: bool
    body: dict[str, Any]

    def details(self) -> str:
        if not self.answered:
            return "no answer"
        relay = self.body.get("relay")
        parts = []
        if relay:
            oldest = relay.get("oldest_pending_s")
            parts += [
                f"backlog {relay['backlog']}",
                f"oldest {oldest:.0f}s" if oldest is not None else "oldest -",
                f"parked {relay['parked']}",
            ]
        consumer = self.body.get("consumer")
        if consumer:
            lag = consumer.get("lag")
            parts.append(f"lag {lag if lag is not None else '?'}")
        letters = self.body.get("dead_letters")
        if letters is not None:
            parts.append(f"dead letters {sum(letters.values())}")
        failing = [name for name, ok in self.body.get("checks", {}).items() if not ok]
        if failing:
            parts.append("failing: " + ", ".join(failing))
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "url": self.url, "ready": self.ready, **self.body}


def endpoints() -> list[tuple[str, str]]:
    """(component, base URL) of every process `tandem run` starts, on this suite's ports."""
    found = []
    for service in config.SERVICES:
        found.append((f"{service} api", config.service_url(service)))
        found.append((f"{service} worker", f"http://127.0.0.1:{worker_health_port(service)}"))
    found.append(("web", f"http://127.0.0.1:{config.port('web')}"))
    return found


def _probe(name: str, url: str) -> Component:
    try:
        response = requests.get(f"{url}/readyz", timeout=5)
        body = response.json()
    except (requests.RequestException, ValueError):
        return Component(name, url, False, False, {})
    return Component(name, url, response.status_code == 200, True, body)


def collect() -> list[Component]:
    with ThreadPoolExecutor(max_workers=9) as pool:
        return list(pool.map(lambda e: _probe(*e), endpoints()))


def broker_up() -> bool:
    host, _, port = config.bootstrap_servers().split(",")[0].rpartition(":")
    return port_open(host or "127.0.0.1", int(port))


def table(components: list[Component]) -> str:
    broker = "up" if broker_up() else "down"
    lines = [f"{'component':<22} {'state':<9} details", f"{'broker':<22} {broker:<9} "
             f"{config.bootstrap_servers()}"]  # fmt: skip
    for c in components:
        state = "ready" if c.ready else ("down" if not c.answered else "not ready")
        lines.append(f"{c.name:<22} {state:<9} {c.details()}".rstrip())
    return "\n".join(lines)
