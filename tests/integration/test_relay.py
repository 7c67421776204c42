"""Outbox relay through the real broker: order per stream, crash recovery, one relay at a time."""

import json

import pytest

from services.eventkit import Metadata, NewEvent
from services.eventkit.bus import KafkaPublisher, ensure_topics
from services.eventkit.relay import Relay, RelayLock
from services.eventkit.tables import OUTBOX_IN_PROGRESS, OUTBOX_PUBLISHED
from support import read_topic

pytestmark = pytest.mark.kafka


class Killed(BaseException):
    """Stands in for the process dying: not an Exception, so no handler tidies up after it."""


class DiesAfter:
    """A publisher that sends `n` messages for real, then the process 'dies'."""

    def __init__(self, real: KafkaPublisher, n: int) -> None:
        self.real, self.left = real, n

    def publish(self, topic, key, value, headers=None):
        if self.left == 0:
            raise Killed()
        self.left -= 1
        self.real.publish(topic, key, value, headers)

    def flush(self, timeout_s: float = 30.0):
        self.real.flush(timeout_s)

    def close(self):
        self.real.close()


def _append_streams(kit, streams: int, per_stream: int) -> list[str]:
    ids = []
    with kit.engine.begin() as conn:
        for v in range(per_stream):
            for s in range(streams):
                label = f"s{s}-{v}"
                (e,) = kit.store.append(
                    conn,
                    f"thing-{s}",
                    [NewEvent("ThingHappened", {"thing_id": label, "label": label, "size": v})],
                    v,
                    Metadata("inst-1"),
                )
                ids.append(e.event_id)
    return ids


def _states(kit) -> dict[str, int]:
    import sqlalchemy as sa

    o = kit.kit.outbox
    with kit.engine.connect() as conn:
        return dict(conn.execute(sa.select(o.c.state, sa.func.count()).group_by(o.c.state)).all())


def test_relay_publishes_in_stream_order_keyed_by_stream(kit, kafka_bootstrap):
    ensure_topics(kafka_bootstrap, [kit.topic])
    ids = _append_streams(kit, streams=4, per_stream=5)
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = Relay(kit.engine, kit.kit, publisher, name=kit.topic, batch_size=7)
    assert relay.lock.acquire()
    try:
        assert relay.drain() == 20
    finally:
        relay.lock.release()
        publisher.close()
    assert _states(kit) == {OUTBOX_PUBLISHED: 20}
    records = read_topic(kafka_bootstrap, kit.topic, expected=20)
    assert sorted(json.loads(r.value)["event_id"] for r in records) == sorted(ids)
    by_stream: dict[str, list[int]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = json.loads(r.value)
        assert r.key.decode() == event["stream_id"]
        by_stream.setdefault(event["stream_id"], []).append(event["stream_version"])
    assert all(versions == sorted(versions) for versions in by_stream.values())
    assert {len(v) for v in by_stream.values()} == {5}


def test_relay_killed_mid_batch_loses_nothing_and_resends(kit, kafka_bootstrap):
    ensure_topics(kafka_bootstrap, [kit.topic])
    ids = _append_streams(kit, streams=3, per_stream=4)
    real = KafkaPublisher(kafka_bootstrap)
    doomed = Relay(kit.engine, kit.kit, DiesAfter(real, 5), name=kit.topic, batch_size=12)
    assert doomed.lock.acquire()
    with pytest.raises(Killed):
        doomed.publish_batch()
    doomed.lock.release()  # the OS frees the lock of a dead process
    assert _states(kit) == {OUTBOX_IN_PROGRESS: 12}  # taken, never marked published

    successor = Relay(kit.engine, kit.kit, real, name=kit.topic)
    assert successor.lock.acquire()
    try:
        assert successor.recover_stranded() == 12
        assert successor.drain() == 12
    finally:
        successor.lock.release()
        real.close()
    assert _states(kit) == {OUTBOX_PUBLISHED: 12}
    records = read_topic(kafka_bootstrap, kit.topic, expected=12 + 5)
    published = [json.loads(r.value)["event_id"] for r in records]
    assert set(published) == set(ids)  # every event arrived; the first five twice


def test_only_one_relay_holds_the_lock(kit):
    first, second = RelayLock(kit.engine, "kit"), RelayLock(kit.engine, "kit")
    assert first.acquire()
    try:
        assert not second.acquire()
    finally:
        first.release()
    assert second.acquire()
    second.release()


def test_unreachable_broker_requeues_the_batch(kit):
    _append_streams(kit, streams=1, per_stream=3)

    class Down:
        def publish(self, *a, **k):
            pass

        def flush(self, timeout_s=30.0):
            raise ConnectionError("broker unreachable")

        def close(self):
            pass

    relay = Relay(kit.engine, kit.kit, Down(), name="kit")
    with pytest.raises(ConnectionError):
        relay.publish_batch()
    assert _states(kit) == {"pending": 3}
