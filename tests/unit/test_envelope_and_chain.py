import dataclasses
import datetime as dt

import marshmallow as ma
import pytest

from services.eventkit.envelope import GENESIS_HASH, Envelope, MalformedEvent, canonical_json
from services.eventkit.hashchain import verify_events
from services.eventkit.registry import Registry


def _event(stream: str = "thing-1", version: int = 1, **payload) -> Envelope:
    return Envelope(
        event_id=f"e-{stream}-{version}",
        event_type="ThingHappened",
        schema_version=1,
        stream_id=stream,
        stream_version=version,
        institution_id="inst-1",
        actor={"id": "u1", "role": "coordinator"},
        occurred_at=dt.datetime(2026, 9, 1, 12, 30, tzinfo=dt.UTC),
        correlation_id="c-1",
        causation_id=None,
        payload=payload or {"name": "x"},
    )


def _chain(stream: str, n: int) -> list[Envelope]:
    events, prev = [], GENESIS_HASH
    for v in range(1, n + 1):
        e = _event(stream, v, n=v).sealed(prev)
        events.append(e)
        prev = e.hash
    return events


def test_canonical_json_is_independent_of_key_order():
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": "é"}]}) == canonical_json(
        {"a": [1, {"c": "é", "d": 2}], "b": 1}
    )


def test_envelope_round_trips_through_json_with_its_hash_intact():
    sealed = _event().sealed(GENESIS_HASH)
    back = Envelope.from_json(sealed.to_json())
    assert back == sealed
    assert back.compute_hash() == sealed.hash


@pytest.mark.parametrize("raw", [b"not json", b"[1,2]", b'{"event_id": "x"}', b"\xff\xfe"])
def test_malformed_bytes_are_refused(raw):
    with pytest.raises(MalformedEvent):
        Envelope.from_json(raw)


def test_intact_chains_verify():
    events = _chain("a", 3) + _chain("b", 2)
    report = verify_events(sorted(events, key=lambda e: (e.stream_id, e.stream_version)))
    assert report.ok and report.events_checked == 5 and report.streams_checked == 2


def test_changed_payload_is_the_first_break():
    events = _chain("a", 4)
    events[2] = dataclasses.replace(events[2], payload={"n": 99})
    report = verify_events(events)
    assert not report.ok
    assert report.first_break.stream_version == 3
    assert "hash" in report.first_break.reason


def test_removed_event_is_found_as_a_gap():
    events = _chain("a", 4)
    del events[1]
    report = verify_events(events)
    assert report.first_break.stream_version == 3
    assert "expected version 2" in report.first_break.reason


def test_rehashed_forgery_still_breaks_the_next_link():
    events = _chain("a", 3)
    forged = dataclasses.replace(events[1], payload={"n": 42}).sealed(events[0].hash)
    events[1] = forged
    report = verify_events(events)
    assert report.first_break.stream_version == 3
    assert "previous-hash" in report.first_break.reason


class V2(ma.Schema):
    label = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)


def test_registry_upcasts_old_versions_on_read():
    registry = Registry()
    registry.register(
        "ThingHappened", V2, version=2, upcasters={1: lambda p: {"label": p["name"], "size": 0}}
    )
    current = registry.current(_event(name="old"))
    assert current.schema_version == 2
    assert current.payload == {"label": "old", "size": 0}


def test_registry_validates_payloads_with_field_errors():
    registry = Registry()
    registry.register("ThingHappened", V2)
    with pytest.raises(ma.ValidationError) as info:
        registry.get("ThingHappened").validate({"label": "x", "size": "big"})
    assert "size" in info.value.messages


def test_registering_a_type_twice_is_an_error():
    registry = Registry()
    registry.register("ThingHappened", V2)
    with pytest.raises(ValueError):
        registry.register("ThingHappened", V2)
