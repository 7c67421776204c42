"""Read models are disposable: rebuilt from the own store, or from other services' topics."""

import pytest
import sqlalchemy as sa

from services.eventkit import Metadata, NewEvent, Service
from services.eventkit.bus import KafkaPublisher, ensure_topics
from services.eventkit.operations import rebuild_from_topics, rebuild_own, republish
from services.eventkit.relay import Relay
from services.eventkit.service import Runtime
from support import read_topic


@pytest.fixture
def runtime(kit, database_url):
    service = Service(
        name="kit",
        metadata=kit.metadata,
        tables=kit.kit,
        registry=kit.registry,
        projections=[kit.own],
        consumers=[kit.remote],
    )
    rt = Runtime(service, database_url)
    rt.store = kit.store  # same tables and projections; its topic is the test's own
    yield rt
    rt.engine.dispose()


def _append(kit, labels):
    with kit.engine.begin() as conn:
        for label in labels:
            kit.store.append(
                conn,
                f"thing-{label}",
                [NewEvent("ThingHappened", {"thing_id": label, "label": label, "size": 1})],
                0,
                Metadata("inst-1"),
            )


def _labels(kit, table):
    with kit.engine.connect() as conn:
        return sorted(conn.execute(sa.select(table.c.label)).scalars())


def test_rebuild_from_the_own_store_restores_the_read_model(kit, runtime):
    _append(kit, ["a", "b", "c"])
    with kit.engine.begin() as conn:  # the read model drifts (or is lost)
        conn.execute(kit.things.delete().where(kit.things.c.thing_id == "b"))
        conn.execute(kit.things.update().values(label="wrong"))
    assert rebuild_own(runtime) == 3
    assert _labels(kit, kit.things) == ["a", "b", "c"]


@pytest.mark.kafka
def test_rebuild_from_topics_replays_every_message_once(kit, runtime, kafka_bootstrap):
    ensure_topics(kafka_bootstrap, [kit.topic])
    _append(kit, ["x", "y"])
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = Relay(kit.engine, kit.kit, publisher, name=kit.topic)
    relay.drain()
    assert republish(runtime) == 2  # published once more: the topic holds each event twice
    relay.drain()
    publisher.close()
    assert len(read_topic(kafka_bootstrap, kit.topic, expected=4)) == 4
    assert rebuild_from_topics(runtime, kafka_bootstrap) == 4
    assert _labels(kit, kit.seen) == ["x", "y"]  # duplicates dropped by the inbox
    with kit.engine.begin() as conn:
        conn.execute(kit.seen.update().values(label="drifted"))
    rebuild_from_topics(runtime, kafka_bootstrap)
    assert _labels(kit, kit.seen) == ["x", "y"]
