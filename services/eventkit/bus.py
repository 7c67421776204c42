"""The seam between the kit and a Kafka client: publish, subscribe, admin.

kafka-python is the default client. A faster one can stand behind the same small interface.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Protocol

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]


@dataclasses.dataclass(frozen=True)
class Message:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = dataclasses.field(default_factory=list)


class Publisher(Protocol):
    def publish(self, topic: str, key: bytes, value: bytes, headers: Headers | None = None) -> None:
        """Queue a message; errors surface in flush()."""

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until every queued message is acknowledged, or raise the first failure."""

    def close(self) -> None: ...


class Subscriber(Protocol):
    def poll(self, timeout_s: float) -> list[Message]: ...

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Commit, per (topic, partition), the offset of the next message to read."""

    def seek(self, topic: str, partition: int, offset: int) -> None: ...

    def close(self) -> None: ...


class KafkaPublisher:
    """Idempotent producer with acks=all: per-partition order holds across retries."""

    def __init__(self, bootstrap_servers: str, client_id: str = "tandem", **config) -> None:
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap_servers.split(","),
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=config.pop("linger_ms", 2),
            max_request_size=config.pop("max_request_size", 1_048_576),
            **config,
        )
        self._pending: list = []

    def publish(self, topic: str, key: bytes, value: bytes, headers: Headers | None = None) -> None:
        self._pending.append(
            self._producer.send(topic, key=key, value=value, headers=headers or [])
        )

    def flush(self, timeout_s: float = 30.0) -> None:
        pending, self._pending = self._pending, []
        self._producer.flush(timeout=timeout_s)
        for future in pending:
            future.get(timeout=timeout_s)

    def close(self) -> None:
        self._producer.close(timeout=5)


class KafkaSubscriber:
    """A consumer-group member that never auto-commits: offsets move only after the DB commit."""

    def __init__(
        self,
        bootstrap_servers: str,
        group_id: str,
        topics: Sequence[str],
        max_poll_records: int = 200,
        max_poll_interval_ms: int = 10_000,
        **config,
    ) -> None:
        self._consumer = KafkaConsumer(
            *topics,
            bootstrap_servers=bootstrap_servers.split(","),
            group_id=group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=max_poll_records,
            max_poll_interval_ms=max_poll_interval_ms,
            session_timeout_ms=config.pop("session_timeout_ms", 10_000),
            heartbeat_interval_ms=config.pop("heartbeat_interval_ms", 1_000),
            # Some brokers hold a fetch open for the whole wait even when data arrives.
            fetch_max_wait_ms=config.pop("fetch_max_wait_ms", 100),
            **config,
        )

    def poll(self, timeout_s: float) -> list[Message]:
        batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        messages: list[Message] = []
        for records in batches.values():
            messages.extend(_message(r) for r in records)
        return messages

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if offsets:
            self._consumer.commit(
                {
                    TopicPartition(topic, partition): OffsetAndMetadata(offset, "", -1)
                    for (topic, partition), offset in offsets.items()
                }
            )

    def seek(self, topic: str, partition: int, offset: int) -> None:
        self._consumer.seek(TopicPartition(topic, partition), offset)

    def close(self) -> None:
        self._consumer.close(autocommit=False)


def _message(record) -> Message:
    return Message(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value,
        headers=list(record.headers or []),
    )


def read_topics_from_start(
    bootstrap_servers: str, topics: Iterable[str], idle_s: float = 3.0
) -> Iterable[Message]:
    """Every message now in the topics, without a consumer group: for rebuilding projections.

    Reads until no message has arrived for `idle_s`. End offsets would be quicker, but some
    Kafka-compatible brokers (the embedded one among them) misreport them for multi-partition topics.
    """
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap_servers.split(","), enable_auto_commit=False, group_id=None
    )
    try:
        consumer.topics()  # load metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not partitions:
            return
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        quiet_since = time.monotonic()
        while time.monotonic() - quiet_since < idle_s:
            batches = consumer.poll(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    yield _message(record)
            if batches:
                quiet_since = time.monotonic()
    finally:
        consumer.close(autocommit=False)


def ensure_topics(
    bootstrap_servers: str, topics: Iterable[str], partitions: int = 3, replication_factor: int = 1
) -> None:
    """Create the topics that do not exist yet."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap_servers.split(","), client_id="tandem-admin"
    )
    try:
        existing = set(admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics(
                [
                    NewTopic(
                        name=t, num_partitions=partitions, replication_factor=replication_factor
                    )
                    for t in missing
                ]
            )
    finally:
        admin.close()


def broker_reachable(bootstrap_servers: str, timeout_s: float = 3.0) -> bool:
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap_servers.split(","),
            client_id="tandem-ready",
            request_timeout_ms=int(timeout_s * 1000),
            bootstrap_timeout_ms=int(timeout_s * 1000),
        )
    except KafkaError:
        return False
    try:
        admin.list_topics()
        return True
    except KafkaError:
        return False
    finally:
        admin.close()
