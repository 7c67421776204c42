"""The whole suite as `tandem run` starts it, for `python -m bench web`: started in a temporary
folder on free ports with secrets of its own, watched (consumer lag, relay backlog, peak memory of
every process), and stopped with nothing left behind."""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.databases import databases
from services.eventkit.broker import port_open

READY_TIMEOUT_S = 300.0  # a loaded machine starts nine processes slowly


def free_port_base() -> int:
    """A base whose ports (base..base+4, base+92, base+100..104) nothing listens on."""
    for base in range(21000, 60000, 500):
        ports = [*range(base, base + 5), base + 92, *range(base + 100, base + 105)]
        if not any(port_open("127.0.0.1", port) for port in ports):
            return base
    raise SystemExit("no free range of ports for the suite")


def suite_environment(var_dir: Path, database_urls: dict[str, str]) -> dict[str, str]:
    """This process's environment for the suite: its own folder, secrets and databases. Set here
    too, so this process signs tokens and writes web accounts the suite accepts."""
    os.environ.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # the suite's own embedded broker
    os.environ["TANDEM_VAR_DIR"] = str(var_dir)
    for variable in ("TANDEM_SERVICE_TOKEN_KEY", "TANDEM_AUDIT_KEY", "TANDEM_KEYRING_KEY"):
        os.environ[variable] = secrets.token_urlsafe(48)
    for name, url in database_urls.items():
        os.environ[f"{name.upper()}_DATABASE_URL"] = url
    return dict(os.environ)


@contextlib.contextmanager
def whole_suite(database: str) -> Iterator[tuple[subprocess.Popen, str]]:
    """`tandem run` in a temporary folder, on SQLite or on fresh PostgreSQL databases (dropped
    after): its process and the web's address."""
    from services.eventkit import config

    with contextlib.ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="tandem-bench-")))
        names = [*config.SERVICES, "web"]
        urls = (stack.enter_context(databases("postgres", workdir, names))
                if database == "postgres" else {})  # fmt: skip
        env = suite_environment(workdir / "var", urls)
        base = free_port_base()
        print(f"starting the suite on ports {base}.. ({database})", flush=True)
        process = stack.enter_context(running_suite(base, env, workdir / "suite.log"))
        yield process, f"http://127.0.0.1:{base}"


@contextlib.contextmanager
def running_suite(base: int, env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """`tandem run --port-base base` until every process is ready; stopped on the way out."""
    from tandem.cli import use_port_base

    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "tandem.cli", "run", "--port-base", str(base)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    use_port_base(base, starts_broker=False)  # this process talks to that suite
    seen: set[int] = set()
    try:
        wait_ready(process, log_path)
        yield process
    finally:
        seen |= descendants(process.pid)
        stop_suite(process, seen)
        log.close()


def wait_ready(process: subprocess.Popen, log_path: Path) -> None:
    from tandem.status import collect

    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:]
            raise SystemExit(f"tandem run exited with {process.returncode}:\n{tail}")
        if all(c.ready for c in collect()):
            return
        time.sleep(1)
    raise SystemExit(f"the suite was not ready in {READY_TIMEOUT_S:.0f} s; see {log_path}")


def stop_suite(process: subprocess.Popen, pids: set[int]) -> None:
    """SIGTERM to the supervisor (it stops its children); anything still there after, killed."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for pid in pids:  # the children run in sessions of their own
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def consumer_state() -> tuple[int, int]:
    """(total consumer lag in messages, total relay backlog) over every worker; -1 when a
    worker does not say."""
    from tandem.status import collect

    lag = backlog = 0
    for component in collect():
        if not component.name.endswith("worker"):
            continue
        consumer = component.body.get("consumer") or {}
        relay = component.body.get("relay") or {}
        if consumer.get("lag") is None or relay.get("backlog") is None:
            return -1, -1
        lag += consumer["lag"]
        backlog += relay["backlog"]
    return lag, backlog


def seconds_to_catch_up(timeout_s: float = 120.0) -> float | None:
    """Seconds until every worker's consumer has no lag (None: not within the timeout). The
    relays' backlog is reported on its own: one stuck row must not hide the consumers' figure."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if consumer_state()[0] == 0:
            return round(time.monotonic() - started, 2)
        time.sleep(0.5)
    return None


def stuck_relays() -> dict[str, dict]:
    """Workers whose relay has rows pending: backlog and the age of the oldest."""
    from tandem.status import collect

    found = {}
    for component in collect():
        relay = component.body.get("relay") or {}
        if relay.get("backlog"):
            found[component.name] = {
                "backlog": relay["backlog"], "oldest_pending_s": relay.get("oldest_pending_s"),
                "stuck": relay.get("stuck"),
            }  # fmt: skip
    return found


# --- memory of every process ---------------------------------------------------------------------


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in found]
        found.update(children)
        frontier.extend(children)
    return found


def process_name(pid: int) -> str:
    """`enrollment-api`, `web`, `run`, ... for the suite's Python processes, else the command."""
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    if "tandem.cli" in args:
        return "-".join(a for a in args[args.index("tandem.cli") + 1 :] if a and a[0] != "-")
    return Path(f"/proc/{pid}/comm").read_text().strip()


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


class MemoryWatch:
    """The peak RSS (VmHWM) of every process of the suite, by process; sampled repeatedly, since
    a process that is started again would take its peak with it."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peaks: dict[int, tuple[str, int]] = {}

    def sample(self) -> None:
        for pid in {self.root, *descendants(self.root)}:
            with contextlib.suppress(OSError, ValueError):
                name, kib = process_name(pid), peak_rss_kib(pid)
                self.peaks[pid] = (name, max(kib, self.peaks.get(pid, ("", 0))[1]))

    def by_name(self) -> dict[str, float]:
        """MB per process name; gunicorn's worker shares its master's name, so `name#2` etc."""
        out: dict[str, float] = {}
        for _, (name, kib) in sorted(self.peaks.items()):
            key, n = name, 1
            while key in out:
                n += 1
                key = f"{name}#{n}"
            out[key] = round(kib / 1024, 1)
        return out


# --- the survey in the mix -----------------------------------------------------------------------


def issue_survey(api: Any, institution_id: str, cycle_id: str, timeout_s: float = 600) -> dict:
    """The ready-made templates seeded into the institution and the first issued now to every pair
    of the cycle, as a coordinator would at a review month: its instance id and items."""
    templates = api.call("POST", "feedback",
                         f"/api/institutions/{institution_id}/survey-templates/builtins", 200,
                         json={"builtins": []})  # fmt: skip
    template = templates[0]
    seconds_to_catch_up(timeout_s)  # feedback has every published pair, so all are sent it
    url = api.config.service_url("feedback") + f"/api/cycles/{cycle_id}/surveys/issue-now"
    body = {"template_id": template["template_id"], "audience": "cycle"}
    deadline = time.monotonic() + timeout_s
    while True:  # 422 until feedback has the published pairs
        headers = {"Authorization": f"Bearer {api.mint()}"}
        reply = api.http.post(url, json=body, headers=headers, timeout=600)
        if reply.status_code == 201:
            issued = reply.json()
            break
        if reply.status_code != 422 or time.monotonic() > deadline:
            raise SystemExit(
                f"issuing a survey to cycle {cycle_id}: {reply.status_code} {reply.text}"
            )
        time.sleep(1)
    return {"instance_id": issued["instance_id"], "items": template["items"]}


def survey_form(items: list[dict], rng: random.Random) -> dict[str, str]:
    """Answers as a participant gives them: a Likert point, the first option, a short text."""
    form = {}
    for item in items:
        if item["kind"] == "likert":
            form[f"item-{item['item_id']}"] = str(rng.randint(3, 5))
        elif item.get("options"):
            form[f"item-{item['item_id']}"] = item["options"][0]
        else:
            form[f"item-{item['item_id']}"] = "Our meetings help; we keep to the plan."
    return form
