"""The suite as `tandem run` starts it on the embedded default, a stream of commands, faults, and
the books: what was accepted, stored and projected.

Commands register people through the enrollment API. A person the API accepted must be in
enrollment's store once, and in the read models three other services build from its topic
(pairing and feedback people, notifications recipients).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import secrets
import signal
import threading
import time
from pathlib import Path
from typing import Any

import requests
import sqlalchemy as sa
from live import LiveSuite

from services.eventkit import config
from services.eventkit.broker import free_port
from services.eventkit.db import make_engine

SERVICES = config.SERVICES
# Read models fed by PersonRegistered, per consuming service.
PROJECTIONS = {"pairing": "people", "feedback": "people", "notifications": "recipients"}


class Fleet:
    """`tandem run` with its embedded broker on a free port, on the given databases."""

    def __init__(self, workdir: Path, database_urls: dict[str, str]) -> None:
        self.live = LiveSuite(workdir, "", database_urls)
        env = self.live.env
        env.pop("KAFKA_BOOTSTRAP_SERVERS")  # the embedded default: `tandem run` starts the broker
        env["TANDEM_BROKER_PORT"] = str(free_port())
        env["TANDEM_RELAY_STUCK_S"] = "20"
        self.var = workdir / "var"
        self.urls = {
            name: database_urls.get(name) or f"sqlite:///{self.var / name}.db" for name in SERVICES
        }
        self.database_urls = database_urls
        self._engines: dict[str, sa.Engine] = {}

    def start(self) -> None:
        self.live.start()

    def stop(self) -> None:
        self.live.stop()
        for engine in self._engines.values():
            engine.dispose()

    def engine(self, service: str) -> sa.Engine:
        if service not in self._engines:
            self._engines[service] = make_engine(self.urls[service])
        return self._engines[service]

    # --- the processes `tandem run` keeps alive ------------------------------------------------

    def children(self) -> dict[str, dict[str, Any]]:
        return json.loads((self.var / "run-status.json").read_text())["children"]

    def kill(self, name: str) -> int:
        """SIGKILL a child's whole process group; the restarts it had before."""
        child = self.children()[name]
        os.killpg(child["pid"], signal.SIGKILL)
        return child["restarts"]

    def restarted(self, name: str, restarts_before: int) -> bool:
        child = self.children().get(name, {})
        return child.get("restarts", 0) > restarts_before and child.get("state") == "running"

    def answering(self, child: str) -> bool:
        """The child serves again: an API's /readyz says ready, a worker's threads run."""
        service, _, role = child.partition("-")
        if role == "api":
            try:
                url = self.live.service_url(service) + "/readyz"
                return requests.get(url, timeout=5).status_code == 200
            except requests.RequestException:
                return False
        return bool(self.worker_ready(service).get("checks", {}).get("threads"))

    def worker_ready(self, service: str) -> dict[str, Any]:
        port = self.live.env[f"{service.upper()}_WORKER_HEALTH_PORT"]
        try:
            return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()
        except (requests.RequestException, ValueError):
            return {}

    def cli(self, *args: str) -> str:
        import subprocess
        import sys

        env = {
            **self.live.env,
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.live.env['TANDEM_BROKER_PORT']}",
        }
        done = subprocess.run(
            [sys.executable, "-m", "tandem.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def terminate_database_sessions(self) -> int:
        """pg_terminate_backend on every session of the suite's databases; how many."""
        names = [sa.make_url(url).database for url in self.database_urls.values()]
        with self.engine("enrollment").connect() as conn:
            killed = conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname IN :names AND pid <> pg_backend_pid()"
                ).bindparams(sa.bindparam("names", expanding=True)),
                {"names": names},
            ).scalar_one()
            conn.commit()
        return killed

    # --- the books ------------------------------------------------------------------------------

    def ids_in(self, service: str, table: str, ids: set[str]) -> set[str]:
        found: set[str] = set()
        chunk = sorted(ids)
        with self.engine(service).connect() as conn:
            for start in range(0, len(chunk), 500):
                rows = conn.execute(
                    sa.text(f"SELECT id FROM {table} WHERE id IN :ids").bindparams(
                        sa.bindparam("ids", expanding=True)
                    ),
                    {"ids": chunk[start : start + 500]},
                )
                found.update(r.id for r in rows)
        return found

    def all_ids(self, service: str, table: str) -> set[str]:
        with self.engine(service).connect() as conn:
            return {r.id for r in conn.execute(sa.text(f"SELECT id FROM {table}"))}

    def stored_registrations(self, emails: set[str]) -> collections.Counter:
        """How many PersonRegistered events enrollment's store holds for each of the emails."""
        counts: collections.Counter = collections.Counter()
        with self.engine("enrollment").connect() as conn:
            rows = conn.execute(
                sa.text("SELECT payload FROM events WHERE event_type = 'PersonRegistered'")
            )
            for (payload,) in rows:
                data = payload if isinstance(payload, dict) else json.loads(payload)
                if data.get("email") in emails:
                    counts[data["email"]] += 1
        return counts

    def outbox(self, older_than_s: float = 0.0) -> dict[str, dict[str, int]]:
        """Per service: rows waiting (pending or in progress) for longer than `older_than_s`,
        and parked rows (skipped ones, given up by an operator, are neither)."""
        found = {}
        cutoff = time.time() - older_than_s
        for service in SERVICES:
            with self.engine(service).connect() as conn:
                rows = conn.execute(
                    sa.text(
                        "SELECT state, created_at FROM outbox WHERE state IN ('pending', 'in_progress', 'failed')"
                    )
                )
                waiting = parked = 0
                for state, created in rows:
                    if state == "failed":
                        parked += 1
                    elif _epoch(created) < cutoff:
                        waiting += 1
            found[service] = {"waiting": waiting, "parked": parked}
        return found


def _epoch(value: Any) -> float:
    import datetime as dt

    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


@dataclasses.dataclass
class Command:
    email: str
    at: float
    person_id: str | None = None  # set when the API answered success


class Load(threading.Thread):
    """Registers people through the enrollment API, one after another, until stopped."""

    def __init__(self, fleet: Fleet, institution_id: str, pause_s: float = 0.05) -> None:
        super().__init__(daemon=True, name="load")
        self.fleet = fleet
        self.institution_id = institution_id
        self.pause_s = pause_s
        self.commands: list[Command] = []
        self.halt = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        live = self.fleet.live
        n = 0
        while not self.halt.is_set():
            n += 1
            command = Command(f"load.{n}.{secrets.token_hex(3)}@resilience.example", time.time())
            with self.lock:
                self.commands.append(command)
            body = {
                "institution_id": self.institution_id,
                "name": f"Load Person {n}",
                "email": command.email,
                "training_level": "PGY2",
            }
            try:
                response = requests.post(
                    live.service_url("enrollment") + "/api/people",
                    json=body,
                    headers={"Authorization": f"Bearer {live.token()}"},
                    timeout=10,
                )
                if response.status_code == 201:
                    command.person_id = response.json()["id"]
            except requests.RequestException:
                pass
            self.halt.wait(self.pause_s)

    def accepted_since(self, start: float) -> int:
        return sum(1 for c in self.since(start) if c.person_id)

    def since(self, start: float) -> list[Command]:
        with self.lock:
            return [c for c in self.commands if c.at >= start]


@dataclasses.dataclass
class Books:
    fault: str
    commands: int
    accepted: int
    stored: int
    projected: int
    lost: int
    duplicated: int
    stuck: int
    parked: int
    seconds_to_converge: float | None

    def line(self) -> str:
        return json.dumps(dataclasses.asdict(self))


def settle(fleet: Fleet, fault: str, commands: list[Command], timeout_s: float = 60.0) -> Books:
    """Wait until every accepted command is stored and projected everywhere (or the timeout);
    then count."""
    accepted = {c.person_id: c.email for c in commands if c.person_id}
    ids = set(accepted)
    started = time.monotonic()
    converged_after: float | None = None
    while True:
        stored = fleet.ids_in("enrollment", "people", ids)
        projected = ids.copy()
        for service, table in PROJECTIONS.items():
            projected &= fleet.ids_in(service, table, ids)
        if stored == ids and projected == ids:
            converged_after = round(time.monotonic() - started, 1)
            break
        if time.monotonic() - started > timeout_s:
            break
        time.sleep(0.5)
    counts = fleet.stored_registrations(set(accepted.values()))
    outbox = fleet.outbox(older_than_s=30.0)
    return Books(
        fault=fault,
        commands=len(commands),
        accepted=len(ids),
        stored=len(stored),
        projected=len(projected),
        lost=len(ids - projected),
        duplicated=sum(n - 1 for n in counts.values() if n > 1),
        stuck=sum(o["waiting"] for o in outbox.values()),
        parked=sum(o["parked"] for o in outbox.values()),
        seconds_to_converge=converged_after,
    )
