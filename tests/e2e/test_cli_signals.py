"""Stopping a tandem command, by SIGTERM or Ctrl-C, leaves no process behind: not the
embedded broker (Tansu), not a service, and no port held; `--port-base` runs a second suite."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from services.eventkit.broker import free_port, port_open
from support import wait_until

pytestmark = [pytest.mark.kafka]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split(") ")[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", *args],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_PORT", "_DATABASE_URL"))}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    env["TANDEM_VAR_DIR"] = str(tmp_path / "var")
    return env


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_stopping_tandem_broker_stops_tansu_and_frees_its_port(tmp_path, sig):
    port = free_port()
    broker = _start(["broker", "--port", str(port)], _env(tmp_path), tmp_path / "broker.log")
    wait_until(lambda: port_open("127.0.0.1", port), timeout_s=30)
    (tansu,) = wait_until(lambda: _children(broker.pid), timeout_s=10)

    os.kill(broker.pid, sig)
    broker.wait(20)

    wait_until(lambda: not _alive(tansu), timeout_s=15)
    wait_until(lambda: not port_open("127.0.0.1", port), timeout_s=15)
    if sig != signal.SIGKILL:
        assert broker.returncode in (0, 130)


def _free_base() -> int:
    """A port base whose suite ports (and the broker's) are all free."""
    for _ in range(50):
        base = random.randrange(20000, 40000, 200)
        ports = [base + n for n in (0, 1, 2, 3, 4, 92, 101, 102, 103, 104)]
        if not any(port_open("127.0.0.1", p) for p in ports):
            return base
    raise AssertionError("no free port base")


def test_a_second_suite_on_a_port_base_stops_whole_on_sigterm(tmp_path):
    base = _free_base()
    env = _env(tmp_path)
    run = _start(["run", "--port-base", str(base)], env, tmp_path / "run.log")
    log = tmp_path / "run.log"
    try:
        wait_until(lambda: "Tandem is running" in log.read_text() or run.poll() is not None,
                   timeout_s=180, interval_s=0.5)  # fmt: skip
        assert run.poll() is None, log.read_text()
        text = log.read_text()
        assert f"http://127.0.0.1:{base}\n" in text and f"127.0.0.1:{base + 92}" in text
        status = json.loads((tmp_path / "var" / "run-status.json").read_text())
        pids = [c["pid"] for c in status["children"].values()]
        assert len(pids) == 10  # the broker, four APIs, four workers, the web
        descendants = [p for pid in pids for p in _children(pid)]  # gunicorn workers, Tansu
        with socket.create_connection(("127.0.0.1", base + 1), timeout=5):
            pass
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(60)

    assert run.returncode == 0
    for pid in [*pids, *descendants]:
        wait_until(lambda pid=pid: not _alive(pid), timeout_s=15)
    for port in (base, base + 1, base + 4, base + 92, base + 101):
        assert not port_open("127.0.0.1", port), port
