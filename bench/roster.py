"""Roster import: one request carrying a 5,000-person roster, through the enrollment API on a real
database. Prints the time and the process's peak memory; the last line is one JSON object."""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import resource
import tempfile
import time
from pathlib import Path

from bench.databases import databases, postgres_server

HELP = "import a large roster in one request; time and peak memory"

LEVELS_MENTEE = ["PGY1", "PGY2", "MS4"]
LEVELS_MENTOR = ["PGY4", "PGY5", "research_resident", "faculty"]
INTERESTS = ["trauma", "research", "global surgery", "wellness", "education", "transplant",
             "vascular", "paediatric surgery", "leadership", "oncology"]  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--people", type=int, default=5000, help="rows in the roster (default 5000)"
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), default="sqlite",
        help="sqlite: a file in a temporary folder; postgres: a fresh database on the server in "
        "BENCH_DATABASE_URL or TEST_DATABASE_URL, dropped afterwards",
    )  # fmt: skip


def roster_csv(people: int, seed: int = 7) -> bytes:
    """A realistic roster: one mentor for every three people, a few interests each."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["name", "email", "role", "training_level", "specialty", "interests", "capacity"]
    )
    for n in range(people):
        mentor = n % 3 == 0
        writer.writerow([
            f"Person {n:05d}", f"person{n:05d}@bench.example.org", "mentor" if mentor else "mentee",
            rng.choice(LEVELS_MENTOR if mentor else LEVELS_MENTEE), "General Surgery",
            ";".join(rng.sample(INTERESTS, 3)), rng.randint(1, 3) if mentor else "",
        ])  # fmt: skip
    return out.getvalue().encode()


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run(args: argparse.Namespace) -> int:
    if args.people < 1:
        raise SystemExit("--people must be positive")
    if args.database == "postgres":
        postgres_server()
    with (
        tempfile.TemporaryDirectory(prefix="tandem-bench-") as workdir,
        databases(args.database, Path(workdir), ["enrollment"]) as urls,
    ):
        result = measure(urls["enrollment"], args.people, Path(workdir))
    result["database"] = args.database
    print(f"imported {result['people']} people in {result['seconds']:.2f} s "
          f"({result['rows_per_s']:.0f} rows/s); re-import {result['reimport_seconds']:.2f} s; "
          f"peak RSS {result['peak_rss_mb']:.0f} MB (+{result['rss_growth_mb']:.0f} MB); "
          f"{result['events_written']} events")  # fmt: skip
    print(json.dumps(result))
    return 0


def measure(database_url: str, people: int, workdir: Path) -> dict:
    import os

    os.environ.setdefault("TANDEM_VAR_DIR", str(workdir / "var"))
    from services.enrollment.app import create_app
    from services.enrollment.service import SERVICE
    from services.eventkit import config
    from services.eventkit.auth import ADMIN, Grant, Principal, TokenSigner
    from services.eventkit.migrations import upgrade

    upgrade(SERVICE.migrations, database_url)
    app = create_app(database_url)
    client = app.test_client()
    token = TokenSigner(config.token_key()).mint(Principal("bench", (Grant(ADMIN),)))
    headers = {"Authorization": f"Bearer {token}"}

    def post(url: str, body: dict) -> dict:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 201, response.json
        return response.json

    inst = post("/api/institutions", {"name": "Bench", "short_code": "BEN", "time_zone": "UTC"})
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "Bench", "program_type": "resident_peer_mentoring"},
    )
    cycle = post(f"/api/programs/{program['id']}/cycles", {"name": "2026-27"})
    data = roster_csv(people)
    url = f"/api/cycles/{cycle['id']}/roster"
    csv_headers = {**headers, "Content-Type": "text/csv"}
    rss_before = _max_rss_mb()
    started = time.perf_counter()
    response = client.post(url, data=data, headers=csv_headers)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"import failed: {response.status_code} {response.json}")
    peak = _max_rss_mb()
    started = time.perf_counter()
    again = client.post(url, data=data, headers=csv_headers)
    reimport = time.perf_counter() - started
    assert again.status_code == 200 and again.json["unchanged"] == people, again.json
    stats = client.get("/api/stats", headers=headers).json["counts"]
    assert stats["people"] == people and stats["enrollments"] == people, stats
    import sqlalchemy as sa

    rt = app.extensions["tandem"]
    with rt.reading() as conn:
        events = conn.execute(
            sa.select(sa.func.count()).select_from(rt.service.tables.events)
        ).scalar_one()
    rt.engine.dispose()
    return {
        "people": people,
        "bytes": len(data),
        "seconds": round(seconds, 3),
        "rows_per_s": round(people / seconds, 1),
        "reimport_seconds": round(reimport, 3),
        "peak_rss_mb": round(peak, 1),
        "rss_growth_mb": round(peak - rss_before, 1),
        "events_written": events,
    }
