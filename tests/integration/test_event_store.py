import threading
import time

import marshmallow as ma
import pytest

from services.eventkit import ConcurrencyError, Metadata, NewEvent
from services.eventkit.hashchain import verify_events


def _thing(label: str, size: int = 1) -> NewEvent:
    return NewEvent("ThingHappened", {"thing_id": label, "label": label, "size": size})


def _append(kit, stream, events, expected):
    with kit.engine.begin() as conn:
        return kit.store.append(conn, stream, events, expected, Metadata("inst-1"))


def _counts(kit):
    return (
        kit.count(kit.engine, kit.kit.events),
        kit.count(kit.engine, kit.kit.outbox),
        kit.count(kit.engine, kit.things),
    )


def test_append_and_load_keep_order_chain_and_outbox(kit):
    _append(kit, "thing-1", [_thing("a"), _thing("b")], 0)
    _append(kit, "thing-1", [_thing("c")], 2)
    with kit.engine.connect() as conn:
        events = kit.store.load(conn, "thing-1")
    assert [e.payload["label"] for e in events] == ["a", "b", "c"]
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash and events[2].prev_hash == events[1].hash
    assert _counts(kit) == (3, 3, 3)


def test_stale_append_raises_and_writes_nothing(kit):
    _append(kit, "thing-1", [_thing("a")], 0)
    before = _counts(kit)
    with pytest.raises(ConcurrencyError) as info:
        _append(kit, "thing-1", [_thing("b")], 0)
    assert info.value.actual == 1
    assert _counts(kit) == before


def test_concurrent_append_at_the_same_version_is_refused(kit):
    """A second writer racing an open transaction at the same version loses, whatever the database."""
    _append(kit, "thing-1", [_thing("seed")], 0)
    first_appended = threading.Event()

    def first_writer() -> None:
        with kit.engine.begin() as conn:
            kit.store.append(conn, "thing-1", [_thing("first")], 1, Metadata("inst-1"))
            first_appended.set()
            time.sleep(0.5)  # still uncommitted while the second writer tries

    thread = threading.Thread(target=first_writer)
    thread.start()
    assert first_appended.wait(5)
    with pytest.raises(ConcurrencyError):
        _append(kit, "thing-1", [_thing("second")], 1)
    thread.join()
    with kit.engine.connect() as conn:
        labels = [e.payload["label"] for e in kit.store.load(conn, "thing-1")]
    assert labels == ["seed", "first"]


def test_invalid_payload_is_refused_with_field_errors(kit):
    with pytest.raises(ma.ValidationError) as info:
        _append(kit, "thing-1", [NewEvent("ThingHappened", {"thing_id": "a", "label": "a"})], 0)
    assert "size" in info.value.messages
    assert _counts(kit) == (0, 0, 0)


def test_old_versions_are_upcast_on_read(kit):
    # A version-1 event as an older release stored it (sealed into the chain like any other).
    from services.eventkit.envelope import GENESIS_HASH, Envelope, new_id, utcnow

    old = Envelope(
        event_id=new_id(),
        event_type="ThingHappened",
        schema_version=1,
        stream_id="thing-old",
        stream_version=1,
        institution_id="inst-1",
        actor={"id": "u", "role": "system"},
        occurred_at=utcnow(),
        correlation_id=new_id(),
        causation_id=None,
        payload={"thing_id": "old", "name": "legacy"},
    ).sealed(GENESIS_HASH)
    with kit.engine.begin() as conn:
        conn.execute(kit.kit.events.insert().values(**old.to_dict()))
    with kit.engine.connect() as conn:
        (loaded,) = kit.store.load(conn, "thing-old")
        stored = list(kit.store.read_streams_in_order(conn))
    assert loaded.schema_version == 2
    assert loaded.payload == {"thing_id": "old", "label": "legacy", "size": 0}
    assert verify_events(stored).ok  # verification reads events as stored, not upcast


def test_tampered_row_is_the_first_break_found(kit):
    for n in range(3):
        _append(kit, f"thing-{n}", [_thing(f"{n}a"), _thing(f"{n}b"), _thing(f"{n}c")], 0)
    events = kit.kit.events
    with kit.engine.begin() as conn:
        conn.execute(
            events.update()
            .where(events.c.stream_id == "thing-1", events.c.stream_version == 2)
            .values(payload={"thing_id": "1b", "label": "forged", "size": 1})
        )
    with kit.engine.connect() as conn:
        report = verify_events(kit.store.read_streams_in_order(conn))
    assert not report.ok
    assert (report.first_break.stream_id, report.first_break.stream_version) == ("thing-1", 2)
