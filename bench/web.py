"""The whole suite under load, as people use it: `tandem run` in a temporary folder, a generated
consortium (institutions, a program and an open cycle each, people through roster imports, pairs
published), web sign-ins for coordinators and a sample of mentees, then a paced open-loop mix of
web requests: page views, sign-ins, meeting logs, survey answers (each cycle is sent a survey), one
roster import and one pairing run. The load starts once the consumers have caught up with the
seeding (pages are used long after the rosters went in). Prints sustained requests/s, p50/p95/p99 per kind of request, errors, how long the event
consumers took to catch up, and the peak memory of every process; the last line is one JSON
object.

Latency runs from when a request was due, not when it was sent, so a suite that falls behind the
schedule shows it (no coordinated omission)."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import json
import queue
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.databases import postgres_server
from bench.roster import roster_csv
from bench.stats import per_second, percentile
from bench.web_suite import (
    MemoryWatch,
    consumer_state,
    issue_survey,
    seconds_to_catch_up,
    stuck_relays,
    survey_form,
    whole_suite,
)

HELP = "the whole suite under a paced mix of web requests: rps, latency per kind, lag, memory"
PASSWORD = "bench-load-password-2026"
PAGE_KINDS = ("home", "pair_page", "meetings_page", "participants", "pairing_page", "health")
# Relative weights of the paced mix; the roster import and pairing run are added once each.
MIX = {
    "home": 22, "pair_page": 14, "meetings_page": 10, "participants": 12, "pairing_page": 6,
    "health": 6, "meeting_log": 12, "survey_answer": 4, "sign_in": 1,
}  # fmt: skip
PARTICIPANT_KINDS = ("home", "pair_page", "meetings_page", "meeting_log", "survey_answer")
ONCE = {"roster_import": 0.4, "pairing_run": 0.6}  # at these fractions of the run
EXPECTED = {"meeting_log": (302, 303), "survey_answer": (302, 303), "sign_in": (302,), "roster_import": (200, 302, 303),
            "pairing_run": (201,)}  # fmt: skip
GIVE_UP_S = 30.0  # a request that could not be sent this long after it was due is an error
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SKIPPED: dict[str, str] = {}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=10000, help="people (default 10000)")
    parser.add_argument("--institutions", type=int, default=4, help="institutions (default 4)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s (default 200)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds (default 60)")
    parser.add_argument(
        "--signed-in", type=int, default=200, help="mentees with web sign-ins (default 200)"
    )
    parser.add_argument(
        "--clients", type=int, default=64, help="concurrent requests at most (default 64)"
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), default="sqlite",
        help="sqlite: files in a temporary folder; postgres: fresh databases on the server in "
        "BENCH_DATABASE_URL or TEST_DATABASE_URL, dropped afterwards",
    )  # fmt: skip


# --- pure: the schedule and the figures ----------------------------------------------------------


def schedule(
    rate: float,
    duration: float,
    mix: Mapping[str, float],
    once: Mapping[str, float] = ONCE,
    seed: int = 11,
) -> list[tuple[float, str]]:
    """(seconds from the start, kind) of every request: evenly paced at `rate`, kinds drawn by
    weight (reproducibly), and each of `once` at its fraction of the run."""
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    rng = random.Random(seed)
    kinds, weights = list(mix), list(mix.values())
    plan = [(i / rate, rng.choices(kinds, weights)[0]) for i in range(int(rate * duration))]
    plan += [(duration * fraction, kind) for kind, fraction in once.items()]
    return sorted(plan)


def kind_figures(latencies_ms: Sequence[float], errors: int) -> dict:
    """Count, p50/p95/p99 in ms (None without a success) and errors of one kind of request."""
    figures: dict = {"count": len(latencies_ms) + errors, "errors": errors}
    for q in (50, 95, 99):
        figures[f"p{q}"] = round(percentile(latencies_ms, q), 1) if latencies_ms else None
    return figures


# --- a browser-like client -----------------------------------------------------------------------


class WebClient(requests.Session):
    """Cookies, and the CSRF token of the last page seen."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url, self.csrf = base_url, ""

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", 30)
        kwargs.setdefault("allow_redirects", False)
        response = super().request(method, self.base_url + url, *args, **kwargs)
        if "html" in response.headers.get("Content-Type", ""):
            found = CSRF_RE.search(response.text)
            self.csrf = found.group(1) if found else self.csrf
        return response

    def sign_in(self, email: str) -> requests.Response:
        self.get("/sign-in")
        return self.post(
            "/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": self.csrf}
        )


@dataclasses.dataclass
class User:
    email: str
    cycle_id: str
    pair_id: str = ""  # mentees only
    survey: dict | None = None  # the survey issued to the mentee's cycle: instance id and items
    client: WebClient | None = None


# --- seeding through the public APIs -------------------------------------------------------------


class Api:
    """The services' APIs as a consortium admin (a fresh short-lived token each call)."""

    def __init__(self) -> None:
        from services.eventkit import config
        from services.eventkit.auth import ADMIN, Grant, Principal, TokenSigner

        self.config = config
        signer = TokenSigner(config.token_key(), config.token_ttl_seconds())
        self.mint = lambda: signer.mint(Principal("bench-web", (Grant(ADMIN),), name="Bench"))
        self.http = requests.Session()

    def call(self, method: str, service: str, path: str, expect: int = 200, **kw) -> object:
        headers = {"Authorization": f"Bearer {self.mint()}", **kw.pop("headers", {})}
        url = self.config.service_url(service) + path
        response = self.http.request(method, url, headers=headers, timeout=600, **kw)
        if response.status_code != expect:
            raise SystemExit(f"{method} {service}{path}: {response.status_code} {response.text}")
        return response.json()

    def candidates(self, cycle_id: str) -> int:
        """How many of the cycle's candidates pairing has (404 until its first event arrives)."""
        url = self.config.service_url("pairing") + f"/api/cycles/{cycle_id}/candidates"
        response = self.http.get(
            url, headers={"Authorization": f"Bearer {self.mint()}"}, timeout=600
        )
        if response.status_code == 404:
            return 0
        response.raise_for_status()
        return len(response.json())


def institution_roster(index: int, people: int) -> bytes:
    """bench.roster's roster with addresses of this institution (emails are unique everywhere)."""
    return roster_csv(people, seed=index).replace(b"@bench.", f"@i{index}.bench.".encode())


def seed(api: Api, institutions: int, people: int, signed_in: int) -> tuple[list[User], list]:
    """The consortium; returns the users who sign in (mentees with a pair, and coordinators) and
    each institution's (institution, cycle) for the load."""
    per_site = people // institutions
    sites = []
    for k in range(institutions):
        inst = api.call("POST", "enrollment", "/api/institutions", 201, json={
            "name": f"Bench Hospital {k}", "short_code": f"BH{k}", "time_zone": "UTC"})  # fmt: skip
        program = api.call("POST", "enrollment", f"/api/institutions/{inst['id']}/programs", 201,
                           json={"name": "Peer mentoring", "program_type": "resident_peer_mentoring"})  # fmt: skip
        cycle = api.call("POST", "enrollment", f"/api/programs/{program['id']}/cycles", 201,
                         json={"name": "2026-27"})  # fmt: skip
        started = time.perf_counter()
        api.call("POST", "enrollment", f"/api/cycles/{cycle['id']}/roster", 200,
                 data=institution_roster(k, per_site), headers={"Content-Type": "text/csv"})  # fmt: skip
        print(
            f"  {inst['short_code']}: roster of {per_site} in {time.perf_counter() - started:.1f} s"
        )
        sites.append((inst, cycle))
    users: list[User] = []
    mentees_each = max(signed_in // institutions, 1)
    for k, (inst, cycle) in enumerate(sites):
        pairs = pair_cycle(api, cycle["id"], per_site)
        coordinator = api.call("POST", "enrollment", "/api/people", 201, json={
            "institution_id": inst["id"], "name": f"Coordinator {k}",
            "email": f"coordinator{k}@bench.example.org", "training_level": "faculty"})  # fmt: skip
        api.call("POST", "enrollment", f"/api/people/{coordinator['id']}/roles", 200,
                 json={"role": "coordinator", "institution_id": inst["id"]})  # fmt: skip
        known = api.call("GET", "enrollment", "/api/people", params={"institution_id": inst["id"]})
        emails = {p["id"]: p["email"] for p in known}  # the first 500 by name
        paired = [(emails[p["mentee_id"]], p["pair_id"]) for p in pairs if p["mentee_id"] in emails]
        survey = issue_survey(api, inst["id"], cycle["id"])
        users.append(User(coordinator["email"], cycle["id"]))
        users += [
            User(email, cycle["id"], pair_id, survey) for email, pair_id in paired[:mentees_each]
        ]
        ids = {email: pid for pid, email in emails.items()} | {
            coordinator["email"]: coordinator["id"]
        }
        from web.cli import set_passwords

        set_passwords([(ids[u.email], u.email) for u in users if u.cycle_id == cycle["id"]],
                      PASSWORD)  # fmt: skip
    return users, sites


def pair_cycle(api: Api, cycle_id: str, expected: int, timeout_s: float = 600) -> list:
    """Once pairing has every candidate: a stable run, published; the published pairs."""
    started = time.perf_counter()
    while api.candidates(cycle_id) < expected:
        if time.perf_counter() - started > timeout_s:
            raise SystemExit(f"pairing did not receive cycle {cycle_id}'s candidates in time")
        time.sleep(2)
    arrived = time.perf_counter() - started
    api.call("POST", "pairing", f"/api/cycles/{cycle_id}/runs", 201, json={"algorithm": "stable"})
    pairs = api.call("POST", "pairing", f"/api/cycles/{cycle_id}/proposal/publish")
    print(f"  cycle {cycle_id[:8]}: candidates after {arrived:.1f} s, {len(pairs)} pairs "
          f"published after {time.perf_counter() - started:.1f} s")  # fmt: skip
    return pairs  # type: ignore[return-value]


# --- the load ------------------------------------------------------------------------------------


class Load:
    """Signed-in clients lent out one request at a time, and what each request came to."""

    def __init__(self, base_url: str, users: list[User], sites: list, api: Api, people: int):
        self.base_url, self.api, self.sites, self.users = base_url, api, sites, users
        self.per_site = people // len(sites)
        self.mentees = [u for u in users if u.pair_id]
        self.participants: queue.Queue[User] = queue.Queue()
        self.coordinators: queue.Queue[User] = queue.Queue()
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.error_samples: dict[str, str] = {}
        self.lock = threading.Lock()
        self.abandoned = 0
        self.rng = random.Random(5)

    def sign_in_everyone(self, per_coordinator: int = 2) -> None:
        """Each mentee once, each coordinator a few times (several tabs), in parallel."""

        def start(user: User) -> User:
            client = WebClient(self.base_url)
            reply = client.sign_in(user.email)
            if reply.status_code != 302:
                raise SystemExit(f"sign-in of {user.email}: {reply.status_code}")
            client.get("/home")  # a page's CSRF token, for the forms
            return dataclasses.replace(user, client=client)

        coordinators = [u for u in self.users if not u.pair_id]
        with ThreadPoolExecutor(8) as pool:
            for user in pool.map(start, self.mentees):
                self.participants.put(user)
            for user in pool.map(start, coordinators * per_coordinator):
                self.coordinators.put(user)

    def record(self, kind: str, due: float, status: int | None, detail: str) -> None:
        ok = status is not None and status in EXPECTED.get(kind, (200,))
        with self.lock:
            if ok:
                self.latencies.setdefault(kind, []).append((time.perf_counter() - due) * 1000)
            else:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                self.error_samples.setdefault(kind, f"{status} {detail}" if status else detail)

    def perform(self, kind: str, due: float) -> None:
        late = time.perf_counter() - due > GIVE_UP_S
        if late and kind not in ONCE:  # a person would have given up by now
            with self.lock:
                self.abandoned += 1
            self.record(kind, due, None, f"not sent: over {GIVE_UP_S:.0f} s behind schedule")
            return
        pool = self.participants if kind in PARTICIPANT_KINDS else self.coordinators
        if kind == "sign_in":
            user = self.rng.choice(self.mentees)
            self._send(kind, due, lambda: WebClient(self.base_url).sign_in(user.email), "/sign-in")
            return
        if kind == "pairing_run":
            self._send(kind, due, self._pairing_run, "pairing /api/cycles/<id>/runs")
            return
        user = pool.get()
        try:
            path, send = self._request(kind, user)
            self._send(kind, due, send, path)
        finally:
            pool.put(user)

    def _send(self, kind: str, due: float, send: Callable, path: str) -> None:
        try:
            response = send()
            self.record(kind, due, response.status_code, path)
        except requests.RequestException as exc:
            self.record(kind, due, None, f"{type(exc).__name__} {path}")

    def _request(self, kind: str, user: User) -> tuple[str, Callable]:
        client, cycle = user.client, user.cycle_id
        assert client is not None
        pages = {
            "home": "/home", "pair_page": "/me/pair", "meetings_page": "/me/meetings",
            "participants": f"/coordinator/participants?cycle={cycle}&q=Person+0{self.rng.randint(0, 9)}",
            "pairing_page": f"/coordinator/cycles/{cycle}/pairing",
            "health": f"/coordinator/cycles/{cycle}/health",
        }  # fmt: skip
        if kind in pages:
            return pages[kind], lambda: client.get(pages[kind])
        if kind == "meeting_log":
            form = {"pair_id": user.pair_id, "date": dt.date.today().isoformat(),
                    "duration_minutes": "30", "mode": "virtual", "topics": "research, wellness",
                    "notes": "Went over the research plan.", "csrf_token": client.csrf}  # fmt: skip
            return "/me/meetings", lambda: client.post("/me/meetings", data=form)
        if kind == "survey_answer":
            assert user.survey is not None
            path = f"/me/surveys/{user.survey['instance_id']}"
            form = {**survey_form(user.survey["items"], self.rng), "csrf_token": client.csrf}
            return path, lambda: client.post(path, data=form)
        if kind == "roster_import":
            # The first institution's roster again, with 100 people more (as a coordinator would).
            index = next(i for i, (_, c) in enumerate(self.sites) if c["id"] == cycle)
            data = institution_roster(index, self.per_site + 100)
            path = f"/coordinator/cycles/{cycle}/roster"
            files = {"file": ("roster.csv", data, "text/csv")}
            form = {"csrf_token": client.csrf}
            return path, lambda: client.post(path, files=files, data=form, timeout=600)
        raise AssertionError(kind)

    def _pairing_run(self) -> requests.Response:
        """A draft run over a whole cycle (its published pairs are kept), through the API."""
        _, cycle = self.sites[-1]
        api = self.api
        url = api.config.service_url("pairing") + f"/api/cycles/{cycle['id']}/runs"
        headers = {"Authorization": f"Bearer {api.mint()}"}
        return requests.post(url, json={"algorithm": "stable"}, headers=headers, timeout=600)

    def drive(self, plan: list[tuple[float, str]], clients: int) -> float:
        """Each request sent when due (or as soon as a client is free); the seconds it took."""
        start = time.perf_counter() + 0.5
        with ThreadPoolExecutor(clients) as pool:
            for offset, kind in plan:
                delay = start + offset - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                pool.submit(self.perform, kind, start + offset)
        return time.perf_counter() - start


class Watch(threading.Thread):
    """Every few seconds during the load: consumer lag, relay backlog, peak memory."""

    def __init__(self, memory) -> None:
        super().__init__(daemon=True)
        self.memory, self.max_lag, self.max_backlog = memory, 0, 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(3):
            with contextlib.suppress(Exception):
                lag, backlog = consumer_state()
                self.max_lag, self.max_backlog = (
                    max(self.max_lag, lag),
                    max(self.max_backlog, backlog),
                )
                self.memory.sample()


def run(args: argparse.Namespace) -> int:
    if min(args.people, args.institutions, args.rate, args.duration, args.clients) <= 0:
        raise SystemExit("--people, --institutions, --rate, --duration, --clients: positive")
    if args.database == "postgres":
        postgres_server()
    from services.eventkit import config

    # SIGTERM (a timeout, an impatient operator) ends the run as Ctrl-C does: the suite stops.
    signal.signal(signal.SIGTERM, _interrupt)

    with contextlib.ExitStack() as stack:
        process, web_url = stack.enter_context(whole_suite(args.database))
        memory = MemoryWatch(process.pid)
        api = Api()
        print(f"seeding {args.people} people in {args.institutions} institutions", flush=True)
        started = time.perf_counter()
        users, sites = seed(api, args.institutions, args.people, args.signed_in)
        seeding_s = time.perf_counter() - started
        print(f"consumers caught up {seconds_to_catch_up(600)} s after the seeding", flush=True)
        load = Load(web_url, users, sites, api, args.people)
        load.sign_in_everyone()
        plan = schedule(args.rate, args.duration, MIX)
        print(f"load: {len(plan)} requests at {args.rate:g}/s for {args.duration:g} s", flush=True)
        watch = Watch(memory)
        watch.start()
        elapsed = load.drive(plan, args.clients)
        watch.done.set()
        lag_s = seconds_to_catch_up()
        relays = stuck_relays()
        memory.sample()
        restarts = _restarts(config.var_dir())
    result = figures(load, elapsed, args, lag_s, watch, memory.by_name())
    result |= {"relays_pending": relays, "seeding_s": round(seeding_s, 1), "restarts": restarts}
    report(result)
    return 0


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def _restarts(var_dir: Path) -> dict[str, int]:
    """Processes `tandem run` had to start again during the run, from its status file."""
    with contextlib.suppress(OSError, ValueError):
        children = json.loads((var_dir / "run-status.json").read_text())["children"]
        return {name: c["restarts"] for name, c in children.items() if c.get("restarts")}
    return {}


def figures(
    load: Load, elapsed: float, args: argparse.Namespace, lag_s: float | None, watch: Watch,
    rss_mb: dict[str, float],
) -> dict:  # fmt: skip
    kinds = {
        kind: kind_figures(load.latencies.get(kind, []), load.errors.get(kind, 0))
        for kind in [*MIX, *ONCE]
    }
    pages = [ms for kind in PAGE_KINDS for ms in load.latencies.get(kind, [])]
    page = kind_figures(pages, 0)
    done = sum(k["count"] for k in kinds.values())
    errors = sum(load.errors.values())
    return {
        "rps": round(per_second(done - load.abandoned, elapsed), 1),  # answered, well or not
        "target_rps": args.rate,
        "duration_s": round(elapsed, 1),
        "page_p50_ms": page["p50"], "page_p95_ms": page["p95"], "page_p99_ms": page["p99"],
        "kinds": kinds,
        "errors": errors,
        "error_rate": round(errors / done, 4) if done else None,
        "error_samples": load.error_samples,
        "abandoned": load.abandoned,
        "lag_s": lag_s,
        "max_lag_messages": watch.max_lag,
        "max_relay_backlog": watch.max_backlog,
        "rss_mb": rss_mb,
        "people": args.people,
        "institutions": args.institutions,
        "signed_in": len(load.mentees),
        "database": args.database,
        "skipped": SKIPPED,
    }  # fmt: skip


def report(result: dict) -> None:
    print(f"{result['rps']} requests/s sustained (target {result['target_rps']:g}) over "
          f"{result['duration_s']} s; {result['errors']} errors ({result['error_rate']})")  # fmt: skip
    for kind, k in result["kinds"].items():
        print(f"  {kind:<14} {k['count']:>6}  p50 {k['p50']}  p95 {k['p95']}  p99 {k['p99']} ms"
              f"  errors {k['errors']}")  # fmt: skip
    print(f"page views: p50 {result['page_p50_ms']} p95 {result['page_p95_ms']} "
          f"p99 {result['page_p99_ms']} ms")  # fmt: skip
    print(
        f"consumers caught up {result['lag_s']} s after the load (max lag during it "
        f"{result['max_lag_messages']} messages, relay backlog {result['max_relay_backlog']})"
    )
    print("peak RSS (MB): " + ", ".join(f"{n} {mb}" for n, mb in result["rss_mb"].items()))
    for worker, relay in result["relays_pending"].items():
        print(f"relay of {worker} still pending after the load: {relay}")
    for kind, why in result["skipped"].items():
        print(f"skipped {kind}: {why}")
    print(json.dumps(result))
