"""`tandem run`: the whole suite on one machine, stopped as a whole by Ctrl-C."""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from services.eventkit import config
from services.eventkit.broker import port_open, start_embedded_broker, stop
from services.eventkit.bus import ensure_topics
from services.eventkit.migrations import upgrade
from services.eventkit.operations import republish
from services.eventkit.service import Runtime
from services.eventkit.worker import worker_health_port

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


def _start_broker(log_dir: Path) -> subprocess.Popen | None:
    """Start the embedded broker unless KAFKA_BOOTSTRAP_SERVERS names one."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        print(f"using the broker at {config.bootstrap_servers()}")
        return None
    if port_open("127.0.0.1", 9092):
        raise SystemExit(
            "port 9092 is taken. Stop what runs there, or set KAFKA_BOOTSTRAP_SERVERS to use it."
        )
    print("starting the embedded broker on 127.0.0.1:9092")
    return start_embedded_broker(9092, str(log_dir / "broker.log"))


def _wait_ready(urls: list[str], children: dict[str, subprocess.Popen]) -> list[str]:
    """The URLs still not ready after the timeout (empty when all are)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting = list(urls)
    while waiting and time.monotonic() < deadline:
        for name, child in children.items():
            if child.poll() is not None:
                raise SystemExit(
                    f"{name} exited with code {child.returncode}; see var/log/{name}.log"
                )
        waiting = [u for u in waiting if not _ready(u)]
        if waiting:
            time.sleep(0.5)
    return waiting


def _ready(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def run_suite(load_demo: bool = False) -> int:
    log_dir = config.var_dir() / "log"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = _child_env()
    os.environ.update(env)
    broker = _start_broker(log_dir)
    children: dict[str, subprocess.Popen] = {}
    stopping = False

    def _shutdown(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)
    try:
        services = _services()
        for service in services:
            upgrade(service.migrations, config.database_url(service.name))
        upgrade(Path(__file__).parent.parent / "web" / "migrations", config.database_url("web"))
        ensure_topics(
            config.bootstrap_servers(),
            [t for s in services for t in s.topics()],
            config.topic_partitions(),
            config.topic_replication_factor(),
        )
        if broker is not None:
            # A fresh embedded broker holds nothing: send every store's events again.
            for service in services:
                rt = Runtime(service)
                republish(rt)
                rt.engine.dispose()
        ready_urls = [f"http://127.0.0.1:{config.port('web')}/readyz"]
        for service in services:
            for action in ("api", "consume"):
                name = f"{service.name}-{action}"
                children[name] = _spawn(name, [service.name, action], env, log_dir)
            ready_urls.append(f"http://127.0.0.1:{config.port(service.name)}/readyz")
            ready_urls.append(f"http://127.0.0.1:{worker_health_port(service.name)}/readyz")
        children["web"] = _spawn("web", ["web"], env, log_dir)
        not_ready = _wait_ready(ready_urls, children)
        if not_ready:
            print("not ready after 60 s: " + ", ".join(not_ready), file=sys.stderr)
            return 1
        if load_demo:
            from services.demo import load_demo as demo

            loaded = demo(config.service_url("enrollment"), config.service_url("pairing"))
            sign_ins = loaded.pop("accounts", [])
            print(f"demo data: {loaded}")
            if sign_ins:
                print("demo sign-ins (the password is shown only now):")
                for account in sign_ins:
                    print(f"  {account['role']:<17} {account['email']:<44} {account['password']}")
        url = f"http://127.0.0.1:{config.port('web')}"
        print(f"\nTandem is running: {url}\n(logs in {log_dir}; Ctrl-C stops everything)\n")
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    print(
                        f"{name} exited with code {child.returncode}; stopping the suite",
                        file=sys.stderr,
                    )
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        print("stopping…")
        for child in children.values():
            _terminate(child)
        for child in children.values():
            _reap(child)
        if broker is not None:
            stop(broker)


def _spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> subprocess.Popen:
    log = (log_dir / f"{name}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches only the supervisor, which stops each child
        preexec_fn=_die_with_parent,
    )


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if the supervisor dies, even by SIGKILL."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _terminate(child: subprocess.Popen) -> None:
    if child.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)


def _reap(child: subprocess.Popen) -> None:
    try:
        child.wait(15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)
        child.wait()
