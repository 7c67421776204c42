"""`tandem export-consortium` and `tandem import-consortium`: the running suite's consortium
moves, through its event stores, into an empty deployment with keys of its own (another audit
key, another keyring key), whose chains verify and whose read models show the people again. On
SQLite files, or on PostgreSQL when TEST_DATABASE_URL is set (as in CI)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from live import PROCESSES, LiveSuite, publish_pairs, seed_program

from services.eventkit import config
from support import run_tandem, wait_until

pytestmark = [pytest.mark.kafka]


def _empty_deployment(live, tmp_path: Path, request) -> dict[str, str]:
    """Another deployment: its own var/ (keys, keyring), and its own empty databases on
    PostgreSQL when the suite runs there."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_PORT", "_DATABASE_URL"))}
    env["TANDEM_VAR_DIR"] = str(tmp_path / "elsewhere" / "var")
    env["KAFKA_TOPIC_PREFIX"] = "elsewhere."
    if any(live.env.get(f"{s.upper()}_DATABASE_URL") for s in config.SERVICES):
        create = request.getfixturevalue("pg_database_factory")
        for service in config.SERVICES:
            env[f"{service.upper()}_DATABASE_URL"] = create(f"moved_{service}")
    return env


def test_a_consortium_moves_to_an_empty_deployment_and_verifies(live_suite, tmp_path, request):
    program = seed_program(live_suite, mentors=2, mentees=2)
    publish_pairs(live_suite, program)
    exported = tmp_path / "consortium.jsonl.gz"

    made = run_tandem(live_suite.env, "export-consortium", str(exported))

    assert made.returncode == 0, made.stderr
    assert made.stderr == ""  # no bar: stderr is not a terminal
    summary = json.loads(made.stdout)
    counts = summary["events"]
    assert counts["enrollment"] > 0 and counts["pairing"] > 0
    assert summary["people"] >= 5  # the coordinator, mentors and mentees at least
    assert exported.stat().st_mode & 0o077 == 0  # it holds the people's data keys
    assert run_tandem(live_suite.env, "export-consortium", str(exported)).returncode == 1

    target = _empty_deployment(live_suite, tmp_path, request)
    done = run_tandem(target, "import-consortium", str(exported))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["imported"] == counts
    for service in config.SERVICES:
        verified = run_tandem(target, service, "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert json.loads(verified.stdout)["events"] == counts[service]
    url = target.get("ENROLLMENT_DATABASE_URL") or (
        f"sqlite:///{tmp_path / 'elsewhere' / 'var' / 'enrollment.db'}"
    )
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            emails = set(
                conn.execute(
                    sa.text("SELECT email FROM people WHERE institution_id = :i"),
                    {"i": program.institution["id"]},
                ).scalars()
            )
            queued = conn.execute(sa.text("SELECT count(*) FROM outbox")).scalar_one()
    finally:
        engine.dispose()
    seeded = {p["email"] for p in (program.coordinator, *program.mentors, *program.mentees)}
    assert emails == seeded  # read under the moved keys, rewrapped by this keyring
    assert queued == counts["enrollment"]  # for the relay: the other services fill from it

    again = run_tandem(target, "import-consortium", str(exported))
    assert again.returncode == 1 and "already hold events" in again.stderr


def test_a_file_cut_short_or_of_another_kind_is_refused(live_suite, tmp_path, request):
    exported = tmp_path / "whole.jsonl.gz"
    assert run_tandem(live_suite.env, "export-consortium", str(exported)).returncode == 0
    lines = gzip.decompress(exported.read_bytes()).splitlines()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(b"\n".join(lines[: len(lines) // 2]) + b"\n"))
    target = _empty_deployment(live_suite, tmp_path, request)

    refused = run_tandem(target, "import-consortium", str(cut))
    assert refused.returncode == 1 and "cut short" in refused.stderr
    other = tmp_path / "other.jsonl.gz"
    other.write_bytes(gzip.compress(b'{"format": "something"}\n'))
    assert "not a tandem-consortium" in run_tandem(target, "import-consortium", str(other)).stderr


def test_the_new_deployment_serves_the_moved_consortium_once_started(
    live_suite, kafka_bootstrap, tmp_path, request
):
    program = seed_program(live_suite, mentors=2, mentees=2)
    pairs = publish_pairs(live_suite, program)
    exported = tmp_path / "consortium.jsonl.gz"
    assert run_tandem(live_suite.env, "export-consortium", str(exported)).returncode == 0
    urls = {}
    if any(live_suite.env.get(f"{s.upper()}_DATABASE_URL") for s in config.SERVICES):
        create = request.getfixturevalue("pg_database_factory")
        urls = {name: create(f"next_{name}") for name in PROCESSES}
    target = LiveSuite(tmp_path / "next", kafka_bootstrap, urls)  # its own topics and keys
    (tmp_path / "next").mkdir()
    imported = run_tandem(target.env, "import-consortium", str(exported))
    assert imported.returncode == 0, imported.stderr

    target.start()  # the relays publish what was imported; the other services consume it
    try:
        cycle = f"/api/cycles/{program.cycle_id}"
        assert (
            target.ok("enrollment", "GET", f"/api/people/{program.mentees[0]['id']}")["email"]
            == program.mentees[0]["email"]
        )

        def arrived(path: str, count: int) -> list | None:
            found = target.api("pairing", "GET", f"{cycle}/{path}")
            return found.json() if found.ok and len(found.json()) == count else None

        # Pairing's cycles and candidates come from enrollment's topic, republished.
        assert wait_until(lambda: arrived("candidates", 4), timeout_s=60)
        moved = wait_until(lambda: arrived("pairs", len(pairs)), timeout_s=30)
        assert {(p["mentor_id"], p["mentee_id"]) for p in moved} == {
            (p["mentor_id"], p["mentee_id"]) for p in pairs
        }
    finally:
        target.stop()
