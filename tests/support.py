"""Helpers for tests that talk to the real broker."""

from __future__ import annotations

import email
import email.policy
import subprocess
import sys
import time
from collections.abc import Callable

import marshmallow as ma
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from kafka import KafkaConsumer, TopicPartition

from services.eventkit import Envelope, Projection, Registry, define_kit_tables
from services.eventkit.store import EventStore


def wait_until(predicate: Callable[[], object], timeout_s: float = 30.0, interval_s: float = 0.1):
    """The first truthy value of predicate(), or AssertionError after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(interval_s)


def read_topic(bootstrap: str, topic: str, expected: int, timeout_s: float = 30.0) -> list:
    """Every record of a topic, waiting until at least `expected` have arrived."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    records: list = []
    try:
        deadline = time.monotonic() + timeout_s
        partitions: list[TopicPartition] = []
        while not partitions and time.monotonic() < deadline:
            consumer.topics()  # refresh metadata
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or []
            ]
            if not partitions:
                time.sleep(0.2)
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        while len(records) < expected and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        # Anything beyond `expected` that is already there (duplicates, strays) counts too.
        for batch in consumer.poll(timeout_ms=500).values():
            records.extend(batch)
    finally:
        consumer.close()
    return records


# A small service of the kit's own, for testing the kit apart from Tandem's services.


class ThingHappenedV2(ma.Schema):
    thing_id = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)


def _v1_to_v2(payload: dict) -> dict:
    # Version 1 had `name` and no size.
    return {"thing_id": payload["thing_id"], "label": payload["name"], "size": 0}


class KitFixture:
    """Tables, registry, projections and store of a throwaway service named `name`."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.metadata = sa.MetaData()
        self.kit = define_kit_tables(self.metadata)
        self.registry = Registry()
        self.registry.register(
            "ThingHappened", ThingHappenedV2, version=2, upcasters={1: _v1_to_v2}
        )
        self.things = sa.Table(
            "things",
            self.metadata,
            sa.Column("thing_id", sa.String(36), primary_key=True),
            sa.Column("label", sa.String(100), nullable=False),
        )
        self.seen = sa.Table(
            "seen",
            self.metadata,
            sa.Column("event_id", sa.String(36), primary_key=True),
            sa.Column("label", sa.String(100), nullable=False),
        )
        self.own = Projection("things", tables=[self.things])
        self.own.on("ThingHappened")(self._own)
        self.remote = Projection("seen", tables=[self.seen], topics=[topic])
        self.remote.on("ThingHappened")(self._remote)
        self.store = EventStore(self.kit, self.registry, topic, [self.own])
        self.fail_labels: set[str] = set()
        self.handled: list[str] = []

    def _own(self, conn: sa.Connection, e: Envelope) -> None:
        conn.execute(
            self.things.insert().values(thing_id=e.payload["thing_id"], label=e.payload["label"])
        )

    def _remote(self, conn: sa.Connection, e: Envelope) -> None:
        self.handled.append(e.event_id)
        if e.payload["label"] in self.fail_labels:
            raise ValueError(f"cannot handle {e.payload['label']}")
        conn.execute(self.seen.insert().values(event_id=e.event_id, label=e.payload["label"]))

    def count(self, engine: sa.Engine, table: sa.Table) -> int:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


def auth_headers(*grants, user: str = "u-1") -> dict[str, str]:
    """Bearer header for a user holding `grants` (services.eventkit.auth.Grant)."""
    from services.eventkit import config
    from services.eventkit.auth import Principal, TokenSigner

    token = TokenSigner(config.token_key()).mint(Principal(user, tuple(grants)))
    return {"Authorization": f"Bearer {token}"}


class NoDeadLetters:
    """A dead-letter publisher for tests where nothing may be dead-lettered."""

    def publish(self, *args, **kwargs):
        raise AssertionError("nothing should be dead-lettered")

    def flush(self, timeout_s: float = 30.0):
        pass

    def close(self):
        pass


def deliver(service, runtime, events, topic: str = "tandem.enrollment.v1") -> None:
    """Apply `events` to a service's consumer projections as its worker would, without a broker."""
    from services.eventkit.bus import Message
    from services.eventkit.consumer import EventConsumer

    consumer = EventConsumer(
        runtime.engine,
        service.tables,
        service.reading_registry(),
        service.consumers,
        NoDeadLetters(),
    )
    consumer.handle_batch(
        [Message(topic, 0, n, e.stream_id.encode(), e.to_json()) for n, e in enumerate(events)]
    )


# A real SMTP server for the notifications tests.


class Mailbox:
    """An aiosmtpd handler keeping every accepted message; refuses listed recipients with 550."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


class SmtpServer:
    """A real SMTP server on a fixed loopback port that can be stopped and started again."""

    def __init__(self) -> None:
        from services.eventkit.broker import free_port

        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def run_tandem(
    env: dict[str, str], *args: str, timeout_s: float = 180
) -> subprocess.CompletedProcess[str]:
    """A `tandem` command as an operator runs it, in its own process with this environment."""
    return subprocess.run(
        [sys.executable, "-m", "tandem.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
