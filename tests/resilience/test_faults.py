"""Faults against the real processes `tandem run` starts, while commands flow.

After each fault: every command the API accepted is stored once and projected by every service
that reads it, no outbox row is left waiting, and the suite needed no operator. Each fault prints
its books as one JSON line.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from harness import PROJECTIONS, SERVICES, Fleet, Load, settle
from live import seed_admin

from support import wait_until

pytestmark = [pytest.mark.kafka]


def _report(books) -> None:
    print(books.line())


def _assert_clean(books) -> None:
    assert books.accepted > 0, books
    assert (books.lost, books.duplicated, books.stuck) == (0, 0, 0), books
    assert books.stored == books.accepted, books


def test_the_broker_killed_under_tandem_run_heals_within_a_minute(fleet: Fleet, load: Load):
    """Must show: kill -9 the embedded broker; `tandem run` starts it again (empty), every
    service republishes its store and every consumer re-reads, with no command typed."""
    wait_until(lambda: len([c for c in load.since(0) if c.person_id]) >= 20, timeout_s=60)
    start = time.time()
    restarts = fleet.kill("broker")
    wait_until(lambda: fleet.restarted("broker", restarts), timeout_s=30, interval_s=0.2)
    back = time.time()
    time.sleep(5)  # commands keep coming after the restart
    checking = time.time()
    books = settle(fleet, "broker kill -9", load.since(start), timeout_s=60)
    _report(books)
    _assert_clean(books)
    assert books.seconds_to_converge is not None
    # Commands made after the broker came back are projected within 60 s of its return.
    assert checking - back + books.seconds_to_converge < 60, books
    # And what was stored before the restart reached the new broker too.
    everything = settle(fleet, "broker kill -9 (whole history)", load.since(0), timeout_s=30)
    _report(everything)
    _assert_clean(everything)
    healed = lambda: all(fleet.worker_ready(s).get("broker_losses", 0) >= 1 for s in SERVICES)  # noqa: E731
    wait_until(healed, timeout_s=30, interval_s=1)
    # The status page says what happened: the broker was restarted, every worker healed.
    admin = seed_admin(fleet.live)
    page = fleet.live.browser_session(admin["email"]).get("/status").text
    assert re.search(
        r">broker</th>\s*<td>.*?Running.*?</td>\s*<td>1 \(last exit code -9\)", page, re.S
    )
    assert page.count("broker losses healed") == len(SERVICES)


@pytest.mark.parametrize("child", [f"{s}-{role}" for role in ("api", "consume") for s in SERVICES])
def test_a_killed_process_is_started_again_and_nothing_is_lost(
    fleet: Fleet, load: Load, child: str
):
    start = time.time()
    restarts = fleet.kill(child)
    wait_until(lambda: fleet.restarted(child, restarts), timeout_s=30, interval_s=0.2)
    wait_until(lambda: fleet.answering(child), timeout_s=60, interval_s=0.2)
    back = time.time()
    wait_until(lambda: load.accepted_since(back) >= 10, timeout_s=30, interval_s=0.2)
    books = settle(fleet, f"{child} kill -9", load.since(start), timeout_s=60)
    _report(books)
    _assert_clean(books)


def test_dropped_database_connections_heal(fleet: Fleet, load: Load):
    """Every PostgreSQL session of every service is terminated at once (pg_terminate_backend):
    requests in flight fail, the relay loses its advisory lock, consumers re-read their batch."""
    if not fleet.database_urls:
        pytest.skip("PostgreSQL only: set TEST_DATABASE_URL")
    start = time.time()
    for _ in range(3):  # a few times, a second apart, to catch the retries too
        assert fleet.terminate_database_sessions() > 0
        time.sleep(1)
    back = time.time()
    wait_until(lambda: load.accepted_since(back) >= 10, timeout_s=60, interval_s=0.2)
    books = settle(fleet, "pg_terminate_backend", load.since(start), timeout_s=60)
    _report(books)
    _assert_clean(books)


def test_a_second_broker_loss_heals_as_well(fleet: Fleet, load: Load):
    """Healing is not a one-off: the broker dies again, later, and everything catches up again."""
    start = time.time()
    restarts = fleet.kill("broker")
    wait_until(lambda: fleet.restarted("broker", restarts), timeout_s=30, interval_s=0.2)
    back = time.time()
    wait_until(lambda: load.accepted_since(back) >= 20, timeout_s=60, interval_s=0.2)
    books = settle(fleet, "second broker kill -9", load.since(start), timeout_s=60)
    _report(books)
    _assert_clean(books)
    assert time.time() - back < 60, books


def test_an_oversized_event_is_parked_alone_while_everything_else_flows(fleet: Fleet, load: Load):
    """A 950 kB event (a program with huge guidelines, just under the API's 1 MiB body limit) is
    over the event size budget (900 kB, below the broker's 1 MB limit): enrollment's
    relay parks that one row, says so on /readyz and `tandem enrollment outbox`, and every other
    command is still stored and projected."""
    institution = load.institution_id
    start = time.time()
    program = fleet.live.ok(
        "enrollment",
        "POST",
        f"/api/institutions/{institution}/programs",
        {
            "name": "Oversized handbook",
            "program_type": "resident_peer_mentoring",
            "guidelines": "Meet monthly. " * 68_000,
        },
    )
    wait_until(lambda: fleet.worker_ready("enrollment").get("relay", {}).get("parked"), 30)
    wait_until(lambda: load.accepted_since(start) >= 20, 60)
    books = settle(fleet, "oversized event", load.since(start), timeout_s=60)
    _report(books)
    _assert_clean(books)
    assert books.parked == 1, books
    health = fleet.worker_ready("enrollment")
    assert health["ready"] is False and health["checks"]["relay"] is False
    assert health["relay"]["parked"] == 1
    (parked,) = [json.loads(line) for line in fleet.cli("enrollment", "outbox").splitlines()]
    assert parked["stream_id"].endswith(program["id"])
    assert "budget" in parked["error"] and parked["bytes"] > 900_000
    # The operator gives up on it; the worker is ready again.
    fleet.cli("enrollment", "outbox", "skip", "--id", str(parked["id"]))
    wait_until(lambda: fleet.worker_ready("enrollment").get("ready") is True, timeout_s=30)
    assert fleet.cli("enrollment", "outbox").strip() == ""


def test_mail_held_while_smtp_is_away_goes_out_once_when_it_returns(fleet: Fleet, load: Load):
    """The SMTP server goes away while people are enrolled (each is mailed an enrollment notice)
    and comes back: every notice is delivered, none twice, while registrations keep flowing."""
    live = fleet.live
    institution = load.institution_id
    program = live.ok(
        "enrollment",
        "POST",
        f"/api/institutions/{institution}/programs",
        {"name": "Mail outage mentoring", "program_type": "resident_peer_mentoring",
         "guidelines": "Meet monthly."},
    )  # fmt: skip
    cycle = live.ok("enrollment", "POST", f"/api/programs/{program['id']}/cycles", {"name": "2027"})
    wait_until(lambda: load.accepted_since(0) >= 12, timeout_s=60, interval_s=0.2)
    people = [c for c in load.since(0) if c.person_id][:12]
    known = lambda: fleet.ids_in("notifications", "recipients", {c.person_id for c in people})  # noqa: E731
    wait_until(lambda: len(known()) == len(people), timeout_s=60, interval_s=0.5)
    start = time.time()
    live.smtp.stop()
    for person in people:
        live.ok(
            "enrollment",
            "POST",
            f"/api/cycles/{cycle['id']}/enrollments",
            {"person_id": person.person_id, "role": "mentee", "interests": ["research"]},
        )
    time.sleep(4)  # delivery attempts fail meanwhile and are retried
    live.smtp.start()

    def notices(address: str) -> int:
        return sum(
            "Mail outage mentoring" in str(m.get_body()) for m in live.smtp.mailbox.to(address)
        )

    delivered = lambda: all(notices(p.email) >= 1 for p in people)  # noqa: E731
    wait_until(delivered, timeout_s=120, interval_s=1)
    time.sleep(5)  # a duplicate would arrive by now
    counts = {p.email: notices(p.email) for p in people}
    books = settle(fleet, "smtp away and back", load.since(start), timeout_s=60)
    print(json.dumps({
        "fault": "smtp away and back", "notices": len(people),
        "delivered": sum(1 for n in counts.values() if n), "lost": sum(1 for n in counts.values() if not n),
        "duplicated": sum(n - 1 for n in counts.values() if n > 1),
        "registrations": books.commands, "registrations_lost": books.lost, "stuck": books.stuck,
    }))  # fmt: skip
    assert set(counts.values()) == {1}, counts
    _assert_clean(books)


def test_every_read_model_holds_what_the_store_holds(fleet: Fleet, load: Load):
    """After every fault: each service's people are exactly enrollment's, commands that failed
    on the way back to the caller included."""
    load.halt.set()
    load.join(15)
    stored = fleet.all_ids("enrollment", "people")

    def same() -> bool:
        return all(fleet.all_ids(s, t) == stored for s, t in PROJECTIONS.items())

    wait_until(same, timeout_s=60, interval_s=0.5)
    drained = lambda: sum(o["waiting"] for o in fleet.outbox().values()) == 0  # noqa: E731
    wait_until(drained, timeout_s=30, interval_s=0.5)
    print(json.dumps({"fault": "end of suite", "people": len(stored), "outbox": fleet.outbox()}))
