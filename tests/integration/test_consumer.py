"""Consumer loop through the real broker: exactly-once effects, poison to DLQ, offsets after commit."""

import threading

import pytest
import sqlalchemy as sa
from kafka import KafkaAdminClient

from services.eventkit import Metadata, NewEvent
from services.eventkit.bus import KafkaPublisher, KafkaSubscriber, ensure_topics
from services.eventkit.config import dlq_topic
from services.eventkit.consumer import EventConsumer
from services.eventkit.relay import Relay
from support import read_topic, wait_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def running(kit, kafka_bootstrap):
    """A consumer of the kit's topic running in a thread, as a worker runs it."""
    ensure_topics(kafka_bootstrap, [kit.topic, dlq_topic(kit.topic)], partitions=2)
    group = f"{kit.topic}-group"
    dlq = KafkaPublisher(kafka_bootstrap)
    consumer = EventConsumer(kit.engine, kit.kit, kit.registry, [kit.remote], dlq, backoff_s=0.01)
    subscriber = KafkaSubscriber(kafka_bootstrap, group, [kit.topic])
    stop = threading.Event()
    thread = threading.Thread(target=consumer.run, args=(subscriber, stop), daemon=True)
    thread.start()
    yield consumer, group
    stop.set()
    thread.join(10)
    subscriber.close()
    dlq.close()


def _publish_things(kit, kafka_bootstrap, labels: list[str]) -> list:
    with kit.engine.begin() as conn:
        events = [
            kit.store.append(
                conn,
                f"thing-{label}",
                [NewEvent("ThingHappened", {"thing_id": label, "label": label, "size": 1})],
                0,
                Metadata("inst-1"),
            )[0]
            for label in labels
        ]
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = Relay(kit.engine, kit.kit, publisher, name=kit.topic)
    relay.drain()
    publisher.close()
    return events


def _committed(kafka_bootstrap: str, group: str, topic: str) -> int:
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap.split(","))
    try:
        offsets = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset > 0)


def test_events_reach_the_projection_and_offsets_follow(kit, kafka_bootstrap, running):
    _, group = running
    _publish_things(kit, kafka_bootstrap, ["a", "b", "c"])
    wait_until(lambda: kit.count(kit.engine, kit.seen) == 3)
    wait_until(lambda: _committed(kafka_bootstrap, group, kit.topic) == 3)


def test_duplicate_delivery_is_applied_once(kit, kafka_bootstrap, running):
    (event,) = _publish_things(kit, kafka_bootstrap, ["once"])
    publisher = KafkaPublisher(kafka_bootstrap)
    for _ in range(2):  # the same event delivered twice more
        publisher.publish(kit.topic, event.stream_id.encode(), event.to_json())
    publisher.flush()
    publisher.close()
    wait_until(lambda: _committed(kafka_bootstrap, running[1], kit.topic) == 3)
    assert kit.count(kit.engine, kit.seen) == 1
    assert kit.handled.count(event.event_id) == 1


def test_poison_messages_go_to_the_dlq_and_the_consumer_goes_on(kit, kafka_bootstrap, running):
    consumer, group = running
    kit.fail_labels.add("poison")
    publisher = KafkaPublisher(kafka_bootstrap)
    publisher.publish(kit.topic, b"garbage", b"\x00not an event")
    publisher.flush()
    publisher.close()
    _publish_things(kit, kafka_bootstrap, ["poison", "fine-1", "fine-2"])
    wait_until(lambda: kit.count(kit.engine, kit.seen) == 2)
    with kit.engine.connect() as conn:
        labels = set(conn.execute(sa.select(kit.seen.c.label)).scalars())
    assert labels == {"fine-1", "fine-2"}
    dead = read_topic(kafka_bootstrap, dlq_topic(kit.topic), expected=2)
    headers = [dict(r.headers) for r in dead]
    assert {h["attempts"] for h in headers} == {b"1", b"3"}  # malformed at once; handler 3 times
    assert any(b"cannot handle poison" in h["error"] for h in headers)
    assert consumer.dead_lettered == 2
    wait_until(lambda: _committed(kafka_bootstrap, group, kit.topic) == 4)


def test_offsets_are_not_committed_while_the_database_fails(kit, kafka_bootstrap, running):
    _, group = running
    outage = {"left": 3}
    original = kit.remote.handlers["ThingHappened"]

    def flaky(conn, event):
        if outage["left"] > 0:
            outage["left"] -= 1
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is down"))
        original(conn, event)

    kit.remote.handlers["ThingHappened"] = flaky
    _publish_things(kit, kafka_bootstrap, ["x"])
    wait_until(lambda: outage["left"] < 3)
    assert _committed(kafka_bootstrap, group, kit.topic) == 0
    wait_until(lambda: kit.count(kit.engine, kit.seen) == 1, timeout_s=60)
    wait_until(lambda: _committed(kafka_bootstrap, group, kit.topic) == 1)
    assert outage["left"] == 0
