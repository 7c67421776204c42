"""The consortium audit trail's page query at scale: a million entries bulk-loaded into the trail
tables (spread over institutions, programs, actors, event types, entities and two years), then
the page function the API serves (`services.enrollment.readmodels.trail.page`) timed under several filters
and scopes, first pages and deep ones. The last line is one JSON object."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from bench.databases import databases, postgres_server
from bench.stats import percentile

HELP = "a million audit-trail entries; page latency under filters, scopes and deep pages"

INSTITUTIONS = 12
PROGRAMS_PER_INSTITUTION = 4
ACTORS = 3000
SPAN_DAYS = 730
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
# Event types weighted roughly as a consortium writes them: notifications and meetings most.
WEIGHTS = {
    "NotificationQueued": 20, "NotificationSent": 18, "NotificationRead": 10,
    "MeetingLogged": 10, "MeetingConfirmed": 8, "ObjectiveSet": 4, "ObjectiveUpdated": 4,
    "SurveyAnswered": 6, "SurveyIssued": 1, "ParticipantEnrolled": 3, "ProfileUpdated": 3,
    "PersonRegistered": 2, "PairCreated": 2, "ProposalEdited": 1, "InterestRanked": 2,
    "ConcernRaised": 0.2, "ConcernAcknowledged": 0.2, "ConfidentialRecordViewed": 0.6,
    "RecordsExported": 0.1, "RoleGranted": 0.1, "AccessRecorded": 5,
}  # fmt: skip
SERVICE_OF = {
    "Notification": "notifications", "Meeting": "feedback", "Objective": "feedback",
    "Survey": "feedback", "Concern": "feedback", "Confidential": "feedback",
    "RecordsExported": "feedback", "PairCreated": "pairing", "ProposalEdited": "pairing",
}  # fmt: skip
PAGE = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--entries", type=int, default=1_000_000, help="trail entries to load (default 1,000,000)"
    )
    parser.add_argument(
        "--repeats", type=int, default=15, help="timed runs of each query (default 15)"
    )
    parser.add_argument(
        "--database", choices=("sqlite", "postgres"), default="sqlite",
        help="sqlite: a file in a temporary folder (default); postgres: a fresh database on the "
        "server in BENCH_DATABASE_URL or TEST_DATABASE_URL, dropped afterwards",
    )  # fmt: skip


@dataclasses.dataclass(frozen=True)
class World:
    institutions: list[str]
    programs: dict[str, list[str]]  # institution -> its programs
    actors: list[tuple[str, str]]  # (actor id, institution)
    entities: list[str]


def world(rng: random.Random) -> World:
    institutions = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(INSTITUTIONS)]
    programs = {
        i: [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(PROGRAMS_PER_INSTITUTION)]
        for i in institutions
    }
    actors = [(str(uuid.UUID(int=rng.getrandbits(128))), rng.choice(institutions))
              for _ in range(ACTORS)]  # fmt: skip
    entities = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(60_000)]
    return World(institutions, programs, actors, entities)


def entries(w: World, count: int, rng: random.Random) -> Iterator[dict]:
    types, weights = list(WEIGHTS), list(WEIGHTS.values())
    span = SPAN_DAYS * 86400
    for _ in range(count):
        event_type = rng.choices(types, weights)[0]
        actor, institution = rng.choice(w.actors)
        # Person-level and notification events belong to no program.
        program = None
        if not event_type.startswith(("Notification", "Person", "Access", "Role")):
            program = rng.choice(w.programs[institution])
        at = START + dt.timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))
        entity = rng.choice(w.entities)
        yield {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "service": next(
                (s for prefix, s in SERVICE_OF.items() if event_type.startswith(prefix)),
                "enrollment",
            ),
            "event_type": event_type,
            "entity_type": event_type.lower()[:12],
            "entity_id": entity,
            "institution_id": institution,
            "program_id": program,
            "actor_id": actor,
            "actor_role": rng.choice(("mentee", "mentor", "coordinator")),
            "occurred_at": at.isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "correlation_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "summary": {"id": entity[:8]},
        }


def load(engine: sa.Engine, w: World, count: int, seed: int) -> float:
    """Bulk-load without the indexes, then build them: how a backfill would run."""
    from services.enrollment.readmodels.trail import entries as table

    rng = random.Random(seed)
    started = time.perf_counter()
    with engine.begin() as conn:
        for index in table.indexes:
            index.drop(conn)
        batch: list[dict] = []
        for row in entries(w, count, rng):
            batch.append(row)
            if len(batch) == 20_000:
                conn.execute(table.insert(), batch)
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
        for index in table.indexes:
            index.create(conn)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    return time.perf_counter() - started


def scenarios(w: World, rng: random.Random) -> dict[str, tuple]:
    """name -> (filters, scopes, cursor): what coordinators and the admin page through."""
    from services.enrollment.readmodels.trail import Cursor, Filters, Scope

    inst = w.institutions[0]
    program = w.programs[inst][1]
    actor = next(a for a, i in w.actors if i == inst)
    year_back = Cursor((START + dt.timedelta(days=SPAN_DAYS // 2)).isoformat(), 2**62)
    month = Filters(since=dt.date(2026, 3, 1), until=dt.date(2026, 3, 31))
    return {
        "admin_first": (Filters(), None, None),
        "admin_deep": (Filters(), None, year_back),
        "admin_institution_deep": (Filters(institution_id=inst), None, year_back),
        "admin_event_type": (Filters(event_type="ConfidentialRecordViewed"), None, None),
        "admin_rare_type_deep": (Filters(event_type="RecordsExported"), None, year_back),
        "admin_actor": (Filters(actor_id=actor), None, None),
        "admin_entity": (Filters(entity_id=rng.choice(w.entities)), None, None),
        "admin_month": (month, None, None),
        "institution_coordinator": (Filters(), [Scope(inst)], None),
        "institution_coordinator_deep": (Filters(), [Scope(inst)], year_back),
        "institution_type_month": (
            dataclasses.replace(month, event_type="MeetingLogged"),
            [Scope(inst)],
            None,
        ),
        "institution_rare_type": (Filters(event_type="ConcernRaised"), [Scope(inst)], None),
        "program_coordinator": (Filters(), [Scope(inst, program)], None),
        "program_coordinator_deep": (Filters(), [Scope(inst, program)], year_back),
        "program_actor": (Filters(actor_id=actor), [Scope(inst, program)], None),
        "program_rare_type_deep": (
            Filters(event_type="ConcernAcknowledged"),
            [Scope(inst, program)],
            year_back,
        ),
    }


def measure(engine: sa.Engine, cases: dict[str, tuple], repeats: int) -> dict[str, list[float]]:
    from services.enrollment.readmodels.trail import page

    timings: dict[str, list[float]] = {}
    with engine.connect() as conn:
        for name, (filters, scopes, cursor) in cases.items():
            page(conn, filters, scopes, cursor, PAGE)  # warm the cache once
            runs = []
            for _ in range(repeats):
                started = time.perf_counter()
                rows, _next = page(conn, filters, scopes, cursor, PAGE)
                runs.append((time.perf_counter() - started) * 1000)
            timings[name] = runs
            print(f"{name:32s} rows {len(rows):3d}  p50 {percentile(runs, 50):7.2f} ms  "
                  f"p95 {percentile(runs, 95):7.2f} ms")  # fmt: skip
    return timings


def run(args: argparse.Namespace) -> int:
    if args.entries < 1 or args.repeats < 1:
        raise SystemExit("--entries and --repeats must be positive")
    if args.database == "postgres":
        postgres_server()
    from services.enrollment.service import SERVICE
    from services.eventkit.migrations import upgrade

    with (
        tempfile.TemporaryDirectory(prefix="tandem-bench-") as workdir,
        databases(args.database, Path(workdir), ["enrollment"]) as urls,
    ):
        import os

        os.environ.setdefault("TANDEM_VAR_DIR", str(Path(workdir) / "var"))
        url = urls["enrollment"]
        upgrade(SERVICE.migrations, url)
        # The table owner, not the app role: the benchmark measures the query, not the policies.
        engine = sa.create_engine(url)
        try:
            rng = random.Random(11)
            w = world(rng)
            seconds = load(engine, w, args.entries, seed=12)
            print(f"loaded {args.entries} entries in {seconds:.1f} s ({args.database})")
            timings = measure(engine, scenarios(w, rng), args.repeats)
        finally:
            engine.dispose()
    every = [ms for runs in timings.values() for ms in runs]
    figures = {
        "audit_p50_ms": round(percentile(every, 50), 2),
        "audit_p95_ms": round(percentile(every, 95), 2),
        "entries": args.entries,
        "database": args.database,
        "load_s": round(seconds, 1),
        "page_size": PAGE,
        "per_filter": {
            name: {"p50_ms": round(percentile(r, 50), 2), "p95_ms": round(percentile(r, 95), 2)}
            for name, r in timings.items()
        },
    }
    print(json.dumps(figures))
    return 0
