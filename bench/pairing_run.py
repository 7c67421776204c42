"""A coordinator's pairing run over a whole cohort, from the button on the web pairing page to the
draft on the page: `tandem run` in a temporary folder, one program with a cycle of --people
(mentors and mentees with interests, goals, languages and meeting modes, as a roster import
gives them), a coordinator signed in on the web, then in turns: the run through the pairing API
alone (server_s) and the run as the page's htmx form posts it, until its fragment with the draft
has arrived (to_page_s); also the whole pairing page loaded afterwards (page_s). Runs start once
the import has settled (every consumer caught up, every relay drained, the suite's processes near
idle), so they time the run, not the import's welcome mails and audit entries still flowing. Medians of --runs; the last line is
one JSON object."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median

import requests

from bench.databases import postgres_server
from bench.roster import INTERESTS, LEVELS_MENTEE, LEVELS_MENTOR
from bench.web import PASSWORD, Api, WebClient
from bench.web_suite import consumer_state, descendants, whole_suite

# Idle workers poll their outbox and the broker: together about a third of a core.
IDLE_CORES = 0.6
HELP = "a pairing run of a whole cohort from the web page's button to the draft on the page"
GOALS = ["publish a first paper", "choose a fellowship", "balance family and training",
         "improve operative skills", "prepare for boards", "plan a research year"]  # fmt: skip
LANGUAGES = ["English", "Spanish", "French", "Mandarin", "Arabic", "Hindi"]
MODES = ["in_person", "virtual", "either"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--people", type=int, default=5000, help="people in the cycle (5000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), default="sqlite",
        help="sqlite: files in a temporary folder; postgres: fresh databases on the server in "
        "BENCH_DATABASE_URL or TEST_DATABASE_URL, dropped afterwards",
    )  # fmt: skip


def cohort_csv(people: int, seed: int = 7) -> bytes:
    """A cohort as a roster file: one mentor for every three people, each with a few interests,
    a goal, languages and how they like to meet."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["name", "email", "role", "training_level", "specialty", "interests", "goals",
                     "languages", "meeting_mode", "capacity"])  # fmt: skip
    for n in range(people):
        mentor = n % 3 == 0
        writer.writerow([
            f"Person {n:05d}", f"person{n:05d}@cohort.example.org", "mentor" if mentor else "mentee",
            rng.choice(LEVELS_MENTOR if mentor else LEVELS_MENTEE), "General Surgery",
            ";".join(rng.sample(INTERESTS, 3)), "" if mentor else rng.choice(GOALS),
            ";".join(["English", *rng.sample(LANGUAGES[1:], rng.randint(0, 1))]),
            rng.choice(MODES), rng.randint(1, 3) if mentor else "",
        ])  # fmt: skip
    return out.getvalue().encode()


def seed_cycle(api: Api, people: int) -> tuple[str, str]:
    """One institution, program and open cycle with the cohort; (cycle id, coordinator email)
    once pairing has every candidate."""
    inst = api.call("POST", "enrollment", "/api/institutions", 201,
                    json={"name": "Cohort Hospital", "short_code": "COH", "time_zone": "UTC"})  # fmt: skip
    program = api.call("POST", "enrollment", f"/api/institutions/{inst['id']}/programs", 201,
                       json={"name": "Peer mentoring", "program_type": "resident_peer_mentoring"})  # fmt: skip
    cycle = api.call("POST", "enrollment", f"/api/programs/{program['id']}/cycles", 201,
                     json={"name": "2026-27"})  # fmt: skip
    api.call("POST", "enrollment", f"/api/cycles/{cycle['id']}/roster", 200,
             data=cohort_csv(people), headers={"Content-Type": "text/csv"})  # fmt: skip
    email = "coordinator@cohort.example.org"
    coordinator = api.call("POST", "enrollment", "/api/people", 201, json={
        "institution_id": inst["id"], "name": "Coordinator", "email": email,
        "training_level": "faculty"})  # fmt: skip
    api.call("POST", "enrollment", f"/api/people/{coordinator['id']}/roles", 200,
             json={"role": "coordinator", "institution_id": inst["id"]})  # fmt: skip
    from web.cli import set_passwords

    set_passwords([(coordinator["id"], email)], PASSWORD)
    started = time.perf_counter()
    while _candidates(api, cycle["id"]) < people:
        if time.perf_counter() - started > 600:
            raise SystemExit("pairing did not receive the cycle's candidates in time")
        time.sleep(2)
    return cycle["id"], email


def _candidates(api: Api, cycle_id: str) -> int:
    """How many candidates pairing has so far (0 while a busy worker does not answer)."""
    try:
        return api.candidates(cycle_id)
    except requests.RequestException:
        return 0


def settle(root: int, timeout_s: float = 900.0) -> float:
    """Seconds until the suite is quiet: no worker has consumer lag or relay backlog, and its
    processes together use under IDLE_CORES of the machine (the mails an import sends go out
    after the consumers have caught up), for three checks in a row."""
    started = time.monotonic()
    quiet = 0
    before = suite_cpu_s(root)
    while quiet < 3:
        if time.monotonic() - started > timeout_s:
            raise SystemExit(f"the suite did not settle within {timeout_s:.0f} s")
        time.sleep(2)
        now = suite_cpu_s(root)
        idle = (now - before) / 2 < IDLE_CORES
        before = now
        quiet = quiet + 1 if idle and consumer_state() == (0, 0) else 0
    return round(time.monotonic() - started, 1)


def suite_cpu_s(root: int) -> float:
    """CPU seconds the suite's processes have used so far (those still running)."""
    total = 0
    for pid in {root, *descendants(root)}:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def run_form(csrf: str) -> dict[str, str]:
    """The run form as the page fills it in: a stable run with the default weights."""
    from services.eventkit.contracts.vocabulary import SOFT_RULES

    form = {"algorithm": "stable", "min_level_gap": "2", "seed": "", "csrf_token": csrf}
    return form | {f"weight_{r.name}": f"{r.default_weight:g}" for r in SOFT_RULES}


def seconds(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure(api: Api, web: WebClient, cycle_id: str, runs: int) -> dict[str, list[float]]:
    page = f"/coordinator/cycles/{cycle_id}/pairing"
    server = api.config.service_url("pairing") + f"/api/cycles/{cycle_id}/runs"

    def by_api() -> None:
        reply = api.http.post(server, json={"algorithm": "stable", "min_level_gap": 2},
                              headers={"Authorization": f"Bearer {api.mint()}"}, timeout=600)  # fmt: skip
        if reply.status_code != 201:
            raise SystemExit(f"pairing run: {reply.status_code} {reply.text[:500]}")

    def by_page() -> None:
        # As htmx sends it: the form, the page's CSRF token, and the headers it adds.
        headers = {"HX-Request": "true", "HX-Target": "proposal", "HX-Current-URL": page}
        reply = web.post(page + "/runs", data=run_form(web.csrf), headers=headers, timeout=600)
        if reply.status_code != 200 or "Pairing ran" not in reply.text:
            raise SystemExit(f"run from the page: {reply.status_code} {reply.text[:500]}")

    def load_page() -> None:
        reply = web.get(page, timeout=600)
        if reply.status_code != 200:
            raise SystemExit(f"pairing page: {reply.status_code}")

    load_page()  # the coordinator opens the page first (and it has the form's CSRF token)
    found: dict[str, list[float]] = {"server_s": [], "to_page_s": [], "page_s": []}
    for _ in range(runs):
        found["server_s"].append(seconds(by_api))
        found["to_page_s"].append(seconds(by_page))
        found["page_s"].append(seconds(load_page))
    return found


def run(args: argparse.Namespace) -> int:
    if min(args.people, args.runs) <= 0:
        raise SystemExit("--people and --runs must be positive")
    if args.database == "postgres":
        postgres_server()
    signal.signal(signal.SIGTERM, _interrupt)  # a timeout stops the suite as Ctrl-C does
    with contextlib.ExitStack() as stack:
        suite, web_url = stack.enter_context(whole_suite(args.database))
        api = Api()
        started = time.perf_counter()
        cycle_id, email = seed_cycle(api, args.people)
        print(f"seeded {args.people} people in {time.perf_counter() - started:.1f} s", flush=True)
        print(
            f"the suite settled in {settle(suite.pid):.1f} s more (no lag, mails sent)", flush=True
        )
        web = WebClient(web_url)
        if web.sign_in(email).status_code != 302:
            raise SystemExit("the coordinator could not sign in")
        found = measure(api, web, cycle_id, args.runs)
    result = {name: round(median(values), 3) for name, values in found.items()}
    result |= {
        "runs": {name: [round(v, 3) for v in values] for name, values in found.items()},
        "people": args.people,
        "database": args.database,
    }
    print(json.dumps(result))
    return 0


def _interrupt(*_) -> None:
    raise KeyboardInterrupt
