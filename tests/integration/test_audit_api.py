"""The audit trail every service serves (GET /api/audit, /api/audit/verify) on a real database:
paging newest first, filters, no payloads, who may audit what, and a tampered row found."""

from __future__ import annotations

import dataclasses
import importlib
import threading

import pytest
import sqlalchemy as sa

from services.enrollment.readmodels import trail
from services.eventkit import config
from services.eventkit.auth import ADMIN, COORDINATOR, MENTEE, Grant
from services.eventkit.bus import KafkaPublisher, Message, ensure_topics
from services.eventkit.consumer import EventConsumer
from services.eventkit.migrations import upgrade
from services.eventkit.operations import (
    checkpoint,
    checkpoint_every,
    checkpoint_file,
    last_verification,
    verification_file,
    verify_and_keep,
)
from services.eventkit.seal import Checkpoint, is_checkpoint_message
from support import NoDeadLetters, auth_headers, read_topic, wait_until


@pytest.fixture
def world(client, admin):
    """Institutions A and B, three people registered in A by A's coordinator, one in B."""

    def post(url, body, headers=admin, status=201):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == status, response.json
        return response.json

    a = post("/api/institutions", {"name": "Northfield", "short_code": "NUH", "time_zone": "UTC"})
    b = post("/api/institutions", {"name": "Lakeside", "short_code": "LSM", "time_zone": "UTC"})
    coordinator_a = auth_headers(Grant(COORDINATOR, a["id"]), user="coord-a")
    for n in range(3):
        person = {
            "institution_id": a["id"],
            "name": f"Secret Name {n}",
            "email": f"person{n}@northfield.example",
            "training_level": "PGY1",
        }
        post("/api/people", person, headers=coordinator_a)
    post(
        "/api/people",
        {
            "institution_id": b["id"],
            "name": "Other Person",
            "email": "other@lakeside.example",
            "training_level": "PGY2",
        },
    )
    return {"a": a["id"], "b": b["id"], "coordinator_a": coordinator_a}


def _all_pages(client, headers, **params) -> tuple[list[dict], int]:
    events, pages, before = [], 0, None
    while True:
        query = {**params, **({"before": before} if before else {})}
        response = client.get("/api/audit", query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        pages += 1
        events.extend(response.json["events"])
        before = response.json["next_before"]
        if before is None:
            return events, pages


def test_pages_run_newest_first_without_gaps_or_repeats(client, admin, world, stored_events):
    first = client.get("/api/audit?limit=2", headers=admin).json
    assert first["service"] == "enrollment"
    positions = [e["position"] for e in first["events"]]
    assert len(positions) == 2 and positions[0] > positions[1]
    assert first["next_before"] == positions[1]

    second = client.get(f"/api/audit?limit=2&before={first['next_before']}", headers=admin).json
    assert all(e["position"] < positions[1] for e in second["events"])

    events, pages = _all_pages(client, admin, limit=2)
    everything = [e["position"] for e in events]
    assert everything == sorted(everything, reverse=True)
    assert len(set(everything)) == len(everything) == stored_events()
    assert pages == (stored_events() + 1) // 2


def test_the_limit_is_capped(client, admin, world):
    assert client.get("/api/audit?limit=201", headers=admin).status_code == 422
    assert client.get("/api/audit?limit=200", headers=admin).status_code == 200


def test_filters_by_institution_event_type_and_actor(client, admin, world):
    in_a, _ = _all_pages(client, admin, institution_id=world["a"])
    assert in_a and {e["institution_id"] for e in in_a} == {world["a"]}
    assert {"InstitutionAdded", "PersonRegistered"} <= {e["event_type"] for e in in_a}

    registered = client.get("/api/audit?event_type=PersonRegistered", headers=admin).json
    assert len(registered["events"]) == 4
    assert {e["event_type"] for e in registered["events"]} == {"PersonRegistered"}

    by_coordinator = client.get("/api/audit?actor=coord-a", headers=admin).json["events"]
    assert len(by_coordinator) == 3
    assert {(e["actor"]["id"], e["actor"]["role"]) for e in by_coordinator} == {
        ("coord-a", COORDINATOR)
    }


def test_payloads_never_leave(client, admin, world):
    response = client.get("/api/audit?limit=200", headers=admin)
    assert response.status_code == 200
    for event in response.json["events"]:
        assert "payload" not in event
        assert set(event) >= {"event_id", "stream_id", "occurred_at", "hash", "prev_hash"}
    body = response.get_data(as_text=True)
    assert "Secret Name" not in body and "northfield.example" not in body


def test_coordinators_audit_only_their_own_institution(client, world):
    coordinator_a = world["coordinator_a"]
    own = client.get(f"/api/audit?institution_id={world['a']}", headers=coordinator_a)
    assert own.status_code == 200
    assert {e["institution_id"] for e in own.json["events"]} == {world["a"]}

    other = client.get(f"/api/audit?institution_id={world['b']}", headers=coordinator_a)
    assert other.status_code == 403
    assert (
        client.get(
            f"/api/audit/verify?institution_id={world['b']}", headers=coordinator_a
        ).status_code
        == 403
    )
    # Without naming the institution a coordinator would read everyone's trail: refused.
    assert client.get("/api/audit", headers=coordinator_a).status_code == 403

    mentee = auth_headers(Grant(MENTEE, world["a"]), user="mentee-a")
    assert client.get(f"/api/audit?institution_id={world['a']}", headers=mentee).status_code == 403
    # A consortium admin holding the role at one institution only is not the consortium admin.
    local_admin = auth_headers(Grant(ADMIN, world["a"]), user="local")
    assert client.get("/api/audit", headers=local_admin).status_code == 403


def test_verify_serves_the_workers_last_check(client, admin, world, enrollment_app):
    rt = enrollment_app.extensions["tandem"]
    before = client.get("/api/audit/verify", headers=admin).json
    assert before["ok"] is None and before["checked_at"] is None  # nothing checked yet
    verify_and_keep(rt)
    clean = client.get("/api/audit/verify", headers=admin).json
    assert clean["ok"] is True and clean["first_break"] is None and clean["checked_at"]
    assert clean["events_checked"] > 0

    target = client.get(
        "/api/audit", query_string={"event_type": "PersonRegistered", "limit": 1}, headers=admin
    ).json["events"][0]
    events = rt.service.tables.events
    with rt.engine.begin() as conn:
        payload = conn.execute(
            sa.select(events.c.payload).where(events.c.position == target["position"])
        ).scalar_one()
        conn.execute(
            events.update()
            .where(events.c.position == target["position"])
            .values(payload={**payload, "name": "Someone Else"})
        )

    # The page shows the last check; the store is read again only when the worker checks.
    assert client.get("/api/audit/verify", headers=admin).json == clean
    verify_and_keep(rt)
    broken = client.get("/api/audit/verify", headers=admin).json
    assert broken["ok"] is False and broken["checked_at"] >= clean["checked_at"]
    assert broken["first_break"]["position"] == target["position"]
    assert broken["first_break"]["event_id"] == target["event_id"]
    assert "hash" in broken["first_break"]["reason"]

    coordinator_view = client.get(
        f"/api/audit/verify?institution_id={world['a']}", headers=world["coordinator_a"]
    )
    assert coordinator_view.status_code == 200 and coordinator_view.json["ok"] is False


def test_a_forged_kept_check_is_reported_broken(client, admin, world, enrollment_app):
    rt = enrollment_app.extensions["tandem"]
    kept = verify_and_keep(rt)
    forged = dataclasses.replace(kept, events_checked=kept.events_checked + 100)
    verification_file(rt).write(forged)
    shown = client.get("/api/audit/verify", headers=admin).json
    assert shown["ok"] is False
    assert "not signed with the audit key" in shown["first_break"]["reason"]


@pytest.mark.parametrize("name", ["pairing", "feedback", "notifications"])
def test_every_service_serves_its_trail(name, database_url, tmp_path, request, admin):
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / name}.db"
    else:
        url = request.getfixturevalue("pg_database_factory")(name)
    service = importlib.import_module(f"services.{name}.service").SERVICE
    upgrade(service.migrations, url)
    app = importlib.import_module(f"services.{name}.app").create_app(url)
    try:
        client = app.test_client()
        page = client.get("/api/audit", headers=admin)
        assert page.status_code == 200
        assert page.json == {"service": name, "events": [], "next_before": None}
        verify_and_keep(app.extensions["tandem"])
        verified = client.get("/api/audit/verify", headers=admin).json
        assert verified["ok"] is True and verified["events_checked"] == 0
        assert "/api/audit" in client.get("/api/openapi.json").json["paths"]
    finally:
        app.extensions["tandem"].engine.dispose()


def test_the_worker_checks_and_keeps_the_result_with_each_checkpoint(world, enrollment_app):
    rt = enrollment_app.extensions["tandem"]
    stop = threading.Event()
    loop = threading.Thread(target=checkpoint_every, args=(rt, stop), daemon=True)
    loop.start()
    try:
        kept = wait_until(lambda: last_verification(rt), timeout_s=30)
    finally:
        stop.set()
        loop.join(10)
    assert kept.ok and kept.events_checked > 0 and kept.authentic(config.audit_key())
    assert checkpoint_file(rt).read(), "the checkpoint is written first"


@pytest.mark.kafka
def test_checkpoints_go_out_on_the_topic_and_consumers_skip_them(
    kafka_bootstrap, topic_prefix, world, enrollment_app
):
    rt = enrollment_app.extensions["tandem"]
    ensure_topics(kafka_bootstrap, [rt.service.topic], 1, 1)
    publisher = KafkaPublisher(kafka_bootstrap, client_id="checkpoint-test")
    try:
        signed = checkpoint(rt, publisher)
    finally:
        publisher.close()
    [record] = read_topic(kafka_bootstrap, rt.service.topic, 1)
    assert is_checkpoint_message(record.headers) and record.key == b"checkpoint"
    on_topic = Checkpoint.from_json(record.value.decode())
    assert on_topic == signed and on_topic.authentic(config.audit_key())
    assert checkpoint_file(rt).read()[-1] == signed

    # Every consumer skips it: nothing applied, nothing dead-lettered, the offset moves on.
    consumer = EventConsumer(
        rt.engine, rt.service.tables, rt.service.reading_registry(), rt.service.consumers,
        NoDeadLetters(),
    )  # fmt: skip
    message = Message(record.topic, record.partition, record.offset, record.key, record.value,
                      list(record.headers))  # fmt: skip
    offsets = consumer.handle_batch([message])
    assert offsets == {(record.topic, record.partition): record.offset + 1}
    with rt.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(trail.entries)).scalar() == 0


class _Kept:
    """A publisher that keeps what it is given."""

    def __init__(self) -> None:
        self.sent: list[tuple] = []

    def publish(self, topic, key, value, headers=None) -> None:
        self.sent.append((topic, key, value, headers))

    def flush(self, timeout_s: float = 30.0) -> None:
        pass


def test_the_worker_publishes_every_checkpoint_but_the_first(world, enrollment_app, monkeypatch):
    monkeypatch.setenv("TANDEM_CHECKPOINT_INTERVAL_S", "0")
    rt = enrollment_app.extensions["tandem"]
    kept, stop = _Kept(), threading.Event()
    loop = threading.Thread(target=checkpoint_every, args=(rt, stop, kept), daemon=True)
    loop.start()
    try:
        wait_until(lambda: len(kept.sent) >= 2, timeout_s=30)
    finally:
        stop.set()
        loop.join(10)
    written = checkpoint_file(rt).read()
    assert len(kept.sent) == len(written) - 1  # the start-up one stays off the topic
    assert [Checkpoint.from_json(v.decode()) for _, _, v, _ in kept.sent] == written[1:]
    assert all(is_checkpoint_message(h) for *_, h in kept.sent)
