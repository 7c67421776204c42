"""`tandem run`: the whole suite on one machine, stopped as a whole by Ctrl-C.

A process that dies (a service's API or worker, the web, the embedded broker) is started again
with growing backoff; the log and the status page say so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import requests

from services.eventkit import config
from services.eventkit.broker import die_with_parent, port_open, start_embedded_broker, stop
from services.eventkit.bus import ensure_topics
from services.eventkit.migrations import upgrade
from services.eventkit.worker import worker_health_port
from web.db import migrate as migrate_web

READY_TIMEOUT_S = 60


def _services():
    return [importlib.import_module(f"services.{n}.service").SERVICE for n in config.SERVICES]


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["TANDEM_SERVICE_TOKEN_KEY"] = config.token_key()
    env["TANDEM_VAR_DIR"] = str(config.var_dir())
    env.setdefault("WEB_INSECURE_COOKIES", "1")  # plain http on localhost
    env.setdefault("TANDEM_BIND_HOST", "127.0.0.1")
    return env


STATUS_FILE = "run-status.json"
STABLE_AFTER_S = 60.0  # a child that ran this long starts over from the shortest backoff
MAX_BACKOFF_S = 30.0


@dataclasses.dataclass
class Child:
    """A process `tandem run` keeps alive: started again with backoff whenever it dies."""

    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen | None = None
    restarts: int = 0
    backoff_s: float = 1.0
    started_at: float = 0.0
    due_at: float | None = None  # when a dead child is started again
    last_exit: int | None = None

    def launch(self) -> None:
        self.process = self.start()
        self.started_at = time.monotonic()
        self.due_at = None

    def state(self) -> str:
        if self.process is not None and self.process.poll() is None:
            return "running"
        return "restarting"

    def report(self) -> dict:
        return {
            "state": self.state(),
            "pid": self.process.pid if self.process is not None else None,
            "restarts": self.restarts,
            "last_exit": self.last_exit,
            "restart_in_s": (
                round(max(self.due_at - time.monotonic(), 0.0), 1) if self.due_at else None
            ),
        }


def _broker_child(log_dir: Path, env: dict[str, str]) -> Child | None:
    """The embedded broker, unless KAFKA_BOOTSTRAP_SERVERS names one. Its address goes into
    `env` and this process's environment."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        print(f"using the broker at {config.bootstrap_servers()}")
        return None
    port = config.env_int("TANDEM_BROKER_PORT", 9092)
    if port_open("127.0.0.1", port):
        raise SystemExit(
            f"port {port} is taken. Stop what runs there, set TANDEM_BROKER_PORT to another"
            " port, or set KAFKA_BOOTSTRAP_SERVERS to use the broker there."
        )
    print(f"starting the embedded broker on 127.0.0.1:{port}")
    child = Child("broker", lambda: start_embedded_broker(port, str(log_dir / "broker.log")))
    child.launch()
    env["KAFKA_BOOTSTRAP_SERVERS"] = os.environ["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
    return child


def _wait_ready(urls: list[str], children: dict[str, Child]) -> list[str]:
    """The URLs still not ready after the timeout (empty when all are)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting = list(urls)
    while waiting and time.monotonic() < deadline:
        for name, child in children.items():
            assert child.process is not None
            if child.process.poll() is not None:
                raise SystemExit(
                    f"{name} exited with code {child.process.returncode}; see var/log/{name}.log"
                )
        waiting = [u for u in waiting if not _ready(u)]
        if waiting:
            time.sleep(0.5)
    return waiting


def _ready(url: str) -> bool:
    """Ready, or a worker whose only complaint is its relay (parked rows are for an operator,
    and must not keep the suite from starting)."""
    try:
        response = requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    if response.status_code == 200:
        return True
    try:
        checks = response.json().get("checks", {})
    except ValueError:
        return False
    return bool(checks) and all(ok for name, ok in checks.items() if name != "relay")


def run_suite(load_demo: bool = False) -> int:
    log_dir = config.var_dir() / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = _child_env()
    os.environ.update(env)
    broker = _broker_child(log_dir, env)
    children: dict[str, Child] = {}
    stopping = running = False

    def _shutdown(*_):
        nonlocal stopping
        stopping = True
        if not running:
            raise KeyboardInterrupt  # still starting (migrations, waiting): stop now

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    try:
        services = _services()
        for service in services:
            upgrade(service.migrations, config.database_url(service.name))
        migrate_web()
        _ensure_all_topics(services)
        # A fresh embedded broker holds nothing: each worker notices its topic is empty and
        # publishes its store again by itself.
        ready_urls = [f"http://127.0.0.1:{config.port('web')}/readyz"]
        for service in services:
            for action in ("api", "consume"):
                name = f"{service.name}-{action}"
                children[name] = _child(name, [service.name, action], env, log_dir)
            ready_urls.append(f"http://127.0.0.1:{config.port(service.name)}/readyz")
            ready_urls.append(f"http://127.0.0.1:{worker_health_port(service.name)}/readyz")
        children["web"] = _child("web", ["web"], env, log_dir)
        not_ready = _wait_ready(ready_urls, children)
        if not_ready:
            print("not ready after 60 s: " + ", ".join(not_ready), file=sys.stderr)
            return 1
        print(started(services, broker is not None))
        if load_demo:
            from tandem.demo import load_demo as demo

            loaded = demo(config.service_url("enrollment"), config.service_url("pairing"))
            sign_ins = loaded.pop("accounts", [])
            print(f"demo data: {loaded}")
            if sign_ins:
                print("demo sign-ins (the password is shown only now):")
                for account in sign_ins:
                    print(f"  {account['role']:<17} {account['email']:<44} {account['password']}")
        url = f"http://127.0.0.1:{config.port('web')}"
        print(f"\nTandem is running: {url}\n(logs in {log_dir}; Ctrl-C stops everything)\n")
        watched = {**({"broker": broker} if broker else {}), **children}
        running = True
        while not stopping:
            _tend(watched, services)
            _write_status(watched)
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        return 130
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):  # the clean-up is not to be cut short
            signal.signal(sig, signal.SIG_IGN)
        print("stopping…")
        for child in children.values():
            _terminate(child.process)
        for child in children.values():
            _reap(child.process)
        if broker is not None and broker.process is not None:
            stop(broker.process)
        with contextlib.suppress(OSError):
            (config.var_dir() / STATUS_FILE).unlink()


def started(services, embedded_broker: bool) -> str:
    """What `tandem run` started and where, one line each."""
    broker = "embedded, memory only" if embedded_broker else "external"
    rows = [("broker", f"{config.bootstrap_servers()} ({broker})")]
    for service in services:
        rows.append((f"{service.name} api", f"http://127.0.0.1:{config.port(service.name)}"))
        rows.append(
            (f"{service.name} worker", f"http://127.0.0.1:{worker_health_port(service.name)}")
        )
    rows.append(("web", f"http://127.0.0.1:{config.port('web')}"))
    lines = [f"  {name:<22} {where}" for name, where in rows]
    return "started (each also serves /healthz, /readyz and /metrics):\n" + "\n".join(lines)


def _child(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Child:
    child = Child(name, lambda: _spawn(name, args, env, log_dir))
    child.launch()
    return child


def _ensure_all_topics(services) -> None:
    ensure_topics(
        config.bootstrap_servers(),
        [t for s in services for t in s.topics()],
        config.topic_partitions(),
        config.topic_replication_factor(),
    )


def _tend(children: dict[str, Child], services) -> None:
    """Start again, with growing backoff, every child that died; say so."""
    now = time.monotonic()
    for name, child in children.items():
        process = child.process
        if process is not None and process.poll() is not None:
            child.last_exit = process.returncode
            if now - child.started_at > STABLE_AFTER_S:
                child.backoff_s = 1.0
            child.process, child.due_at = None, now + child.backoff_s
            print(
                f"{name} exited with code {child.last_exit}; starting it again in "
                f"{child.backoff_s:.0f} s (see var/log/{name}.log)",
                file=sys.stderr,
                flush=True,
            )
            child.backoff_s = min(child.backoff_s * 2, MAX_BACKOFF_S)
        if child.process is None and child.due_at is not None and now >= child.due_at:
            try:
                child.launch()
            except Exception as exc:  # the broker's start waits for it to answer, and may fail
                print(f"{name} did not start: {exc}", file=sys.stderr, flush=True)
                child.due_at = time.monotonic() + child.backoff_s
                continue
            child.restarts += 1
            print(f"{name} started again (restart {child.restarts})", file=sys.stderr, flush=True)
            if name == "broker":
                # Memory only: it came back empty. Topics now, with their configured partitions;
                # each worker notices the new broker and publishes its store again by itself.
                with contextlib.suppress(Exception):
                    _ensure_all_topics(services)


def _write_status(children: dict[str, Child]) -> None:
    """What the status page shows about the processes `tandem run` keeps alive."""
    path = config.var_dir() / STATUS_FILE
    body = {"supervisor_pid": os.getpid(), "children": {n: c.report() for n, c in children.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body))
    tmp.replace(path)


def _spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches only the supervisor, which stops each child
        preexec_fn=die_with_parent,
    )


def _terminate(child: subprocess.Popen | None) -> None:
    if child is not None and child.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)


def _reap(child: subprocess.Popen | None) -> None:
    if child is None:
        return
    try:
        child.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
