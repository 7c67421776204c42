"""Outbox relay through the real broker: order per stream, crash recovery, one relay at a time."""

import json
import threading

import pytest

from services.eventkit import Metadata, NewEvent
from services.eventkit.bus import KafkaPublisher, ensure_topics
from services.eventkit.relay import PublishFailed, Relay, RelayLock
from services.eventkit.tables import (
    OUTBOX_FAILED,
    OUTBOX_IN_PROGRESS,
    OUTBOX_PENDING,
    OUTBOX_PUBLISHED,
)
from support import read_topic

pytestmark = pytest.mark.kafka


class Killed(BaseException):
    """Stands in for the process dying: not an Exception, so no handler tidies up after it."""


class DiesAfter:
    """A publisher that sends `n` messages for real, then the process 'dies'."""

    def __init__(self, real: KafkaPublisher, n: int) -> None:
        self.real, self.left = real, n

    def deliver(self, messages, timeout_s: float = 30.0):
        self.real.deliver(messages[: self.left], timeout_s)
        raise Killed()

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
    assert _states(kit) == {OUTBOX_PENDING: 12}  # five were sent, none marked published

    successor = Relay(kit.engine, kit.kit, real, name=kit.topic)
    assert successor.lock.acquire()
    try:
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
        def deliver(self, messages, timeout_s=30.0):
            return [ConnectionError("broker unreachable") for _ in messages]

        def close(self):
            pass

    relay = Relay(kit.engine, kit.kit, Down(), name="kit")
    with pytest.raises(PublishFailed):
        relay.publish_batch()
    assert _states(kit) == {"pending": 3}  # nothing parked: the broker being away is no row's fault


def _append(kit, stream: str, labels: list[str], start: int = 0) -> list[str]:
    """Events on `stream`; a label of the form "BIG:<n>" makes that event n bytes larger on the
    wire (the test table's label column is short, so the outbox row is enlarged instead)."""

    ids = []
    outbox = kit.kit.outbox
    with kit.engine.begin() as conn:
        for n, label in enumerate(labels, start=start):
            payload = {"thing_id": f"{stream}-{n}", "label": label[:50], "size": n}
            (e,) = kit.store.append(
                conn, stream, [NewEvent("ThingHappened", payload)], n, Metadata("inst-1")
            )
            ids.append(e.event_id)
            if label.startswith("BIG:"):
                message = json.loads(e.to_json())
                message["payload"]["label"] = "x" * int(label[4:])
                conn.execute(
                    outbox.update()
                    .where(outbox.c.event_id == e.event_id)
                    .values(message=json.dumps(message))
                )
    return ids


def _rows(kit) -> dict[str, tuple[str, str | None]]:
    import sqlalchemy as sa

    o = kit.kit.outbox
    with kit.engine.connect() as conn:
        rows = conn.execute(sa.select(o.c.event_id, o.c.state, o.c.last_error)).all()
    return {r.event_id: (r.state, r.last_error) for r in rows}


def _published_ids(bootstrap: str, topic: str, expected: int) -> list[str]:
    return [json.loads(r.value)["event_id"] for r in read_topic(bootstrap, topic, expected)]


def test_an_oversized_event_is_parked_alone_and_its_stream_waits(kit, kafka_bootstrap):
    ensure_topics(kafka_bootstrap, [kit.topic])
    a = _append(kit, "thing-a", ["a0", "BIG:5000", "a2"])
    b = _append(kit, "thing-b", ["b0", "b1", "b2"])
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = Relay(kit.engine, kit.kit, publisher, name=kit.topic, max_message_bytes=3000)
    assert relay.lock.acquire()
    try:
        assert relay.drain() == 4  # a0 and all of b: the batch is not failed for a1's sake
        rows = _rows(kit)
        assert rows[a[1]][0] == OUTBOX_FAILED
        assert "budget is 3000 bytes" in rows[a[1]][1]
        assert rows[a[2]][0] == "pending"  # behind its stream's parked event, in order
        assert relay.drain() == 0  # and it stays there: no retry loop, no head-of-line block
        later = _append(kit, "thing-b", ["b3"], start=3)
        assert relay.drain() == 1  # later events of other streams keep flowing
        published = _published_ids(kafka_bootstrap, kit.topic, expected=5)
        assert sorted(published) == sorted([a[0], *b, *later])

        # An operator lets it go (here: a larger budget) and re-drives it; order holds.
        from types import SimpleNamespace

        from services.eventkit.operations import parked_rows, retry_parked

        rt = SimpleNamespace(
            engine=kit.engine, service=SimpleNamespace(tables=kit.kit), reading=kit.engine.connect
        )
        (parked,) = parked_rows(rt)
        assert parked["event_id"] == a[1] and parked["stream_id"] == "thing-a"
        relay.max_message_bytes = 900_000
        assert retry_parked(rt) == 1
        assert relay.drain() == 2
    finally:
        relay.lock.release()
        publisher.close()
    records = read_topic(kafka_bootstrap, kit.topic, expected=7)
    stream_a = [json.loads(r.value) for r in records if r.key == b"thing-a"]
    assert [e["stream_version"] for e in stream_a] == [1, 2, 3]


def test_a_message_the_producer_refuses_is_parked_alone(kit, kafka_bootstrap):
    """The client's own size check (MessageSizeTooLargeError) parks the row, not the batch."""
    ensure_topics(kafka_bootstrap, [kit.topic])
    small = _append(kit, "thing-a", ["a0"])
    big = _append(kit, "thing-b", ["BIG:8000"])
    after = _append(kit, "thing-c", ["c0"])
    publisher = KafkaPublisher(kafka_bootstrap, max_request_size=4000)
    relay = Relay(kit.engine, kit.kit, publisher, name=kit.topic)
    assert relay.lock.acquire()
    try:
        assert relay.drain() == 2
    finally:
        relay.lock.release()
        publisher.close()
    rows = _rows(kit)
    assert rows[big[0]][0] == OUTBOX_FAILED
    assert "MessageSizeTooLarge" in rows[big[0]][1]
    assert {rows[small[0]][0], rows[after[0]][0]} == {OUTBOX_PUBLISHED}


def test_relay_heals_by_itself_after_the_broker_restarts(kit):
    """A broker restart loses every topic and forgets the producer's id: the relay notices the
    new broker, makes a new producer and publishes the whole store again, with no command."""
    from types import SimpleNamespace

    from services.eventkit.broker import free_port, start_embedded_broker, stop
    from services.eventkit.bus import BrokerWatch, topic_is_empty
    from services.eventkit.operations import republish
    from services.eventkit.relay import Healing
    from support import wait_until

    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    broker = start_embedded_broker(port)
    rt = SimpleNamespace(
        engine=kit.engine, store=kit.store, service=SimpleNamespace(tables=kit.kit)
    )
    watch = BrokerWatch(bootstrap, own_topic=kit.topic)

    def queue_store_again() -> int:
        ensure_topics(bootstrap, [kit.topic])
        return republish(rt)

    healing = Healing(
        losses=lambda: watch.losses,
        topic_empty=lambda: topic_is_empty(bootstrap, kit.topic),
        republish=queue_store_again,
    )
    publisher = KafkaPublisher(bootstrap)
    relay = Relay(kit.engine, kit.kit, publisher, name=kit.topic, healing=healing)
    halt = threading.Event()
    thread = threading.Thread(target=relay.run, args=(halt,), daemon=True)
    try:
        ensure_topics(bootstrap, [kit.topic])
        before = _append(kit, "thing-a", ["a0", "a1"])
        watch.check()
        thread.start()
        assert len(read_topic(bootstrap, kit.topic, expected=2)) == 2

        stop(broker)
        broker = start_embedded_broker(port)  # same address, nothing in it
        wait_until(watch.check, timeout_s=20, interval_s=0.5)
        after = _append(kit, "thing-b", ["b0"])
        records = read_topic(bootstrap, kit.topic, expected=3, timeout_s=30)
        assert {json.loads(r.value)["event_id"] for r in records} == {*before, *after}
        assert publisher.recreated >= 1  # the old producer was fenced for good
    finally:
        halt.set()
        thread.join(10)
        publisher.close()
        watch.close()
        stop(broker)


def test_relay_status_calls_a_relay_stuck_when_rows_wait_with_no_progress_or_are_parked(kit):
    import datetime as dt

    import sqlalchemy as sa

    from services.eventkit.relay import relay_status

    outbox = kit.kit.outbox
    assert relay_status(kit.engine, outbox, stuck_after_s=60).stuck is False  # empty
    _append(kit, "thing-a", ["a0", "a1"])
    fresh = relay_status(kit.engine, outbox, stuck_after_s=60)
    assert (fresh.backlog, fresh.parked, fresh.stuck) == (2, 0, False)  # waiting, but not long

    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    with kit.engine.begin() as conn:
        conn.execute(outbox.update().values(created_at=long_ago, updated_at=long_ago))
    stalled = relay_status(kit.engine, outbox, stuck_after_s=60)
    assert stalled.stuck is True and stalled.oldest_pending_s >= 299

    # Progress (a row published just now) means a backlog draining, not a stuck relay.
    with kit.engine.begin() as conn:
        first = conn.execute(sa.select(sa.func.min(outbox.c.id))).scalar_one()
        conn.execute(
            outbox.update()
            .where(outbox.c.id == first)
            .values(state=OUTBOX_PUBLISHED, updated_at=dt.datetime.now(dt.UTC))
        )
    assert relay_status(kit.engine, outbox, stuck_after_s=60).stuck is False

    with kit.engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.id != first).values(state=OUTBOX_FAILED))
    parked = relay_status(kit.engine, outbox, stuck_after_s=60)
    assert (parked.backlog, parked.parked, parked.stuck) == (0, 1, True)


def test_skipping_a_parked_row_lets_its_stream_move_on(kit, kafka_bootstrap):
    from types import SimpleNamespace

    from services.eventkit.operations import parked_rows, republish, skip_parked

    ensure_topics(kafka_bootstrap, [kit.topic])
    a = _append(kit, "thing-a", ["a0", "BIG:5000", "a2"])
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = Relay(kit.engine, kit.kit, publisher, name=kit.topic, max_message_bytes=3000)
    rt = SimpleNamespace(
        engine=kit.engine,
        store=kit.store,
        service=SimpleNamespace(tables=kit.kit),
        reading=kit.engine.connect,
    )
    assert relay.lock.acquire()
    try:
        assert relay.drain() == 1
        (parked,) = parked_rows(rt)
        assert skip_parked(rt, [parked["id"]]) == 1
        assert parked_rows(rt) == []
        assert relay.drain() == 1  # a2, no longer behind a parked row
        assert republish(rt) == 2  # a skipped event is not queued again either
        assert relay.drain() == 2
    finally:
        relay.lock.release()
        publisher.close()
    published = _published_ids(kafka_bootstrap, kit.topic, expected=4)
    assert a[1] not in published and sorted(set(published)) == sorted([a[0], a[2]])


def test_rows_an_earlier_relay_claimed_go_back_to_the_queue(kit, kafka_bootstrap):
    ensure_topics(kafka_bootstrap, [kit.topic])
    _append_streams(kit, streams=2, per_stream=2)
    with kit.engine.begin() as conn:
        conn.execute(kit.kit.outbox.update().values(state=OUTBOX_IN_PROGRESS))
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = Relay(kit.engine, kit.kit, publisher, name=kit.topic)
    try:
        assert relay.drain() == 0  # claimed rows are not due until recovered
        assert relay.recover_stranded() == 4
        assert relay.drain() == 4
    finally:
        publisher.close()
    assert _states(kit) == {OUTBOX_PUBLISHED: 4}
