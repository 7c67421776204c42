"""The services as separate processes, through the real broker: events cross service boundaries,
survive a killed consumer and a full republish, and are applied once."""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from kafka import KafkaAdminClient

from services.eventkit.auth import SYSTEM, Grant, Principal, TokenSigner
from services.eventkit.broker import free_ports
from services.eventkit.migrations import upgrade
from support import wait_until
from tandem.demo import load_demo

pytestmark = [pytest.mark.kafka]

SERVICES = ("enrollment", "pairing", "notifications")
# Imported here, before any test sets KAFKA_TOPIC_PREFIX for its subprocesses.
SERVICE_MODULES = {name: importlib.import_module(f"services.{name}.service") for name in SERVICES}


class Suite:
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, service: str, action: str) -> None:
        name = f"{service}-{action}"
        log = (self.log_dir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "tandem.cli", service, action],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def kill(self, name: str) -> None:
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'{service.upper()}_PORT']}"

    def worker_health(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'{service.upper()}_WORKER_HEALTH_PORT']}/readyz"

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "tandem.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


def _ready(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def suite(request, kafka_bootstrap, tmp_path, topic_prefix):
    env = dict(os.environ)
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": topic_prefix,
            "TANDEM_SERVICE_TOKEN_KEY": "e2e-" + "k" * 40,
            "TANDEM_VAR_DIR": str(tmp_path / "var"),
            "TANDEM_BIND_HOST": "127.0.0.1",
            "LOG_LEVEL": "INFO",
        }
    )
    ports = iter(free_ports(2 * len(SERVICES)))
    for service in SERVICES:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / service}.db"
        else:
            url = request.getfixturevalue("pg_database_factory")(service[:5])
        env[f"{service.upper()}_DATABASE_URL"] = url
        env[f"{service.upper()}_PORT"] = str(next(ports))
        env[f"{service.upper()}_WORKER_HEALTH_PORT"] = str(next(ports))
        upgrade(SERVICE_MODULES[service].SERVICE.migrations, url)
    running = Suite(env, tmp_path)
    for service in SERVICES:
        running.start(service, "api")
        running.start(service, "consume")
    try:
        for service in SERVICES:
            wait_until(lambda s=service: _ready(f"{running.url(s)}/readyz"), timeout_s=60)
            wait_until(lambda s=service: _ready(running.worker_health(s)), timeout_s=60)
        yield running
    finally:
        running.stop_all()
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()[-3000:]}")


def _counts(suite: Suite, service: str) -> dict[str, int]:
    token = TokenSigner(suite.env["TANDEM_SERVICE_TOKEN_KEY"]).mint(
        Principal("ops", (Grant(SYSTEM),))
    )
    response = requests.get(
        f"{suite.url(service)}/api/stats", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    response.raise_for_status()
    return response.json()["counts"]


def _committed(bootstrap: str, group: str, topic: str) -> int:
    """Messages of `topic` the group has committed (its offsets summed over partitions)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset > 0)


def test_events_flow_between_service_processes(suite: Suite):
    os.environ["TANDEM_SERVICE_TOKEN_KEY"] = suite.env["TANDEM_SERVICE_TOKEN_KEY"]
    try:
        created = load_demo(
            suite.url("enrollment"), mentees_per_site=3, mentors_per_site=2, accounts=False
        )
    finally:
        del os.environ["TANDEM_SERVICE_TOKEN_KEY"]
    assert created["people"] == 15
    # Appended in enrollment's process, projected in pairing's and notifications' processes.
    wait_until(
        lambda: (
            _counts(suite, "pairing") == {"people": 15, "cycles": 3, "candidates": 15, "pairs": 0}
        ),
        timeout_s=60,
    )
    wait_until(
        lambda: (
            _counts(suite, "notifications")
            # No SMTP server configured: the worker's sender keeps every mail in the local outbox.
            == {"recipients": 15, "notifications": 15, "deliveries": 15, "local_mail": 15}
        ),
        timeout_s=60,
    )

    # A consumer killed outright loses nothing: what arrives while it is down is applied on restart.
    suite.kill("pairing-consume")
    bootstrap, prefix = suite.env["KAFKA_BOOTSTRAP_SERVERS"], suite.env["KAFKA_TOPIC_PREFIX"]
    token = TokenSigner(suite.env["TANDEM_SERVICE_TOKEN_KEY"]).mint(
        Principal("admin", (Grant("consortium_admin"),))
    )
    headers = {"Authorization": f"Bearer {token}"}
    institution = requests.get(
        f"{suite.url('enrollment')}/api/institutions", headers=headers, timeout=5
    ).json()[0]
    for n in range(3):
        response = requests.post(
            f"{suite.url('enrollment')}/api/people",
            json={
                "institution_id": institution["id"],
                "name": f"Late Comer {n}",
                "email": f"late{n}@example.org",
                "training_level": "PGY2",
            },
            headers=headers,
            timeout=5,
        )
        assert response.status_code == 201, response.text
    suite.start("pairing", "consume")
    wait_until(lambda: _counts(suite, "pairing")["people"] == 18, timeout_s=60)

    # The broker loses nothing that matters: republishing the whole store changes no projection.
    stored = json.loads(suite.cli("enrollment", "verify").stdout)["events"]
    result = suite.cli("enrollment", "republish")
    assert result.returncode == 0, result.stderr
    topic = f"{prefix}tandem.enrollment.v1"
    for service in ("pairing", "notifications"):  # every event now sits in the topic twice
        group = f"{prefix}tandem-{service}"
        wait_until(lambda g=group: _committed(bootstrap, g, topic) == 2 * stored, timeout_s=60)
    assert _counts(suite, "pairing") == {"people": 18, "cycles": 3, "candidates": 15, "pairs": 0}
    assert _counts(suite, "notifications") == {
        "recipients": 18,
        "notifications": 15,
        "deliveries": 15,
        "local_mail": 15,
    }

    for service in SERVICES:
        verified = suite.cli(service, "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert '"ok": true' in verified.stdout
