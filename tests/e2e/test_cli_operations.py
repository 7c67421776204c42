"""The operator's commands against the running suite (SQLite files, or PostgreSQL when
TEST_DATABASE_URL is set, as in CI): `tandem status` and `tandem dlq list|show|redrive`, a
redrive kept in the audit trail as the operations page keeps it."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest
from live import seed_admin

from services.eventkit.bus import KafkaPublisher
from support import wait_until

pytestmark = [pytest.mark.kafka]


def tandem(live, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tandem.cli", *args],
        env=live.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_status_names_every_process_with_its_relay_lag_and_dead_letters(live_suite):
    result = tandem(live_suite, "status", "--json")

    assert result.returncode == 0, result.stdout + result.stderr
    rows = {row["name"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {
        *(f"{s} {kind}" for s in ("enrollment", "pairing", "feedback", "notifications")
          for kind in ("api", "worker")),
        "web",
    }  # fmt: skip
    assert all(row["ready"] for row in rows.values())
    worker = rows["pairing worker"]
    assert worker["relay"]["parked"] == 0 and "backlog" in worker["relay"]
    assert worker["consumer"]["lag"] is not None
    assert isinstance(worker["dead_letters"], dict)
    table = tandem(live_suite, "status").stdout
    assert "pairing worker" in table and "dead letters" in table and "lag" in table


def _letters(live, *args: str) -> list[dict]:
    result = tandem(live, "dlq", "list", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_a_poison_message_is_listed_shown_and_redriven(live_suite):
    topic = live_suite.env["KAFKA_TOPIC_PREFIX"] + "tandem.enrollment.v1"
    key = f"poison-{uuid.uuid4().hex[:8]}"
    publisher = KafkaPublisher(live_suite.env["KAFKA_BOOTSTRAP_SERVERS"])
    publisher.publish(topic, key.encode(), b"{not an event", [])
    publisher.flush()
    publisher.close()

    def listed() -> list[dict]:
        return [d for d in _letters(live_suite, "--service", "pairing") if d["stream_id"] == key]

    (letter,) = wait_until(listed, timeout_s=30, interval_s=1)
    assert letter["consumer"] == "pairing"
    assert letter["ref"].startswith(f"{topic}.dlq:")
    assert "MalformedEvent" in letter["error"]

    shown = tandem(live_suite, "dlq", "show", letter["ref"])
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["headers"]["source_topic"] == topic
    assert tandem(live_suite, "dlq", "show", f"{topic}.dlq:0:999999").returncode == 2

    admin = seed_admin(live_suite)
    redriven = tandem(live_suite, "dlq", "redrive", letter["ref"], "--by", admin["email"])
    assert redriven.returncode == 0, redriven.stderr
    # Still poison: back on its topic, the consumer dead-letters it a second time.
    wait_until(lambda: len(listed()) == 2, timeout_s=30, interval_s=1)

    trail = live_suite.ok("enrollment", "GET", "/api/trail",
                          params={"event_type": "AccessRecorded", "actor": admin["id"]})  # fmt: skip
    (entry,) = [e for e in trail["entries"] if letter["ref"] in str(e)]
    assert "redrive" in str(entry) and f"cli pairing {letter['ref']}" in str(entry)
