"""`verify` against someone who can write the database: deleted events, streams and tails,
forged and reordered events are each named; an untouched store verifies."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from services.eventkit import operations
from services.eventkit.envelope import Envelope
from services.eventkit.seal import Checkpoint
from services.eventkit.store import row_to_envelope


@pytest.fixture
def store(enrollment_app, client, admin):
    """The enrollment store with three institutions and a person in each (six streams)."""
    for code in ("AAA", "BBB", "CCC"):
        made = client.post(
            "/api/institutions",
            json={"name": f"Hospital {code}", "short_code": code, "time_zone": "UTC"},
            headers=admin,
        )
        assert made.status_code == 201, made.json
        person = client.post(
            "/api/people",
            json={"institution_id": made.json["id"], "name": f"Person {code}",
                  "email": f"p.{code.lower()}@example.org", "training_level": "PGY1"},
            headers=admin,
        )  # fmt: skip
        assert person.status_code == 201, person.json
        updated = client.patch(
            f"/api/people/{person.json['id']}", json={"pronouns": "they/them"}, headers=admin
        )
        assert updated.status_code == 200, updated.json
    return enrollment_app.extensions["tandem"]


def _rows(rt) -> list[sa.Row]:
    events = rt.store.tables.events
    with rt.reading() as conn:
        return conn.execute(sa.select(events).order_by(events.c.seq)).all()


def _run(rt, *statements) -> None:
    with rt.engine.begin() as conn:
        for statement in statements:
            conn.execute(statement)


def test_an_untouched_store_verifies_with_its_checkpoints(store):
    first = operations.checkpoint(store)
    assert first.seq == len(_rows(store)) == 9
    report = operations.verify(store)
    assert report.ok, report.first_break
    assert report.sealed_through == 9 and report.checkpoints_checked == 1
    assert [r.seq for r in _rows(store)] == list(range(1, 10))


def test_a_deleted_stream_tail_is_named(store):
    events = store.store.tables.events
    person_stream = next(r for r in _rows(store) if r.stream_version == 2 and r.seq < 9)
    _run(store, events.delete().where(events.c.event_id == person_stream.event_id))
    report = operations.verify(store)
    assert not report.ok
    assert "missing" in report.first_break.reason and "deleted" in report.first_break.reason


def test_a_deleted_stream_is_named(store):
    events = store.store.tables.events
    institution = _rows(store)[0]
    _run(store, events.delete().where(events.c.stream_id == institution.stream_id))
    report = operations.verify(store)
    assert "deleted stream" in report.first_break.reason
    assert report.first_break.seq == 2  # the first event after the gap


def test_an_event_forged_and_rehashed_with_the_public_recipe_is_named(store):
    events = store.store.tables.events
    last_of_stream = next(r for r in _rows(store) if r.stream_version == 2)
    forged = row_to_envelope(last_of_stream)
    forged = Envelope.from_dict(
        {**forged.to_dict(), "payload": {**forged.payload, "pronouns": "xe/xem"},
         "actor": {"id": "someone-else", "role": "consortium_admin"}}
    )  # fmt: skip
    rehashed = forged.sealed(forged.prev_hash)
    _run(
        store,
        events.update()
        .where(events.c.event_id == forged.event_id)
        .values(payload=rehashed.payload, actor=rehashed.actor, hash=rehashed.hash),
    )
    report = operations.verify(store)
    assert not report.ok
    assert "rewritten" in report.first_break.reason
    assert report.first_break.event_id == forged.event_id


def test_reordered_events_are_named(store):
    events = store.store.tables.events
    a, b = _rows(store)[2], _rows(store)[5]
    parked = -1
    _run(
        store,
        events.update().where(events.c.event_id == a.event_id).values(seq=parked),
        events.update().where(events.c.event_id == b.event_id).values(seq=a.seq, seal=a.seal),
        events.update().where(events.c.event_id == a.event_id).values(seq=b.seq, seal=b.seal),
    )
    report = operations.verify(store)
    assert "reordered" in report.first_break.reason


def test_a_deleted_tail_of_the_store_is_caught_by_the_checkpoint(store):
    operations.checkpoint(store)
    events = store.store.tables.events
    last = _rows(store)[-1]
    _run(store, events.delete().where(events.c.event_id == last.event_id))
    report = operations.verify(store)
    assert "deleted tail" in report.first_break.reason


def test_a_checkpoint_not_signed_with_the_audit_key_is_refused(store):
    real = operations.checkpoint(store)
    fake = Checkpoint(real.service, real.seq, real.seal, real.at).signed(b"another key")
    report = operations.verify(store, [fake])
    assert "not signed" in report.first_break.reason
