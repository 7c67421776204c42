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

from kafka import (
    ConsumerRebalanceListener,
    KafkaAdminClient,
    KafkaConsumer,
    KafkaProducer,
    TopicPartition,
)
from kafka import errors as Errors
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

log = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]
# Errors that belong to one message (the broker will never take it), not to the producer or broker.
MESSAGE_ERRORS = (
    Errors.MessageSizeTooLargeError,
    Errors.RecordListTooLargeError,
    Errors.InvalidRecordError,
    Errors.CorruptRecordError,
    Errors.InvalidTopicError,
)


def is_message_error(exc: BaseException) -> bool:
    """True if the broker refuses this message for good: retrying it can never succeed."""
    return isinstance(exc, MESSAGE_ERRORS)


@dataclasses.dataclass(frozen=True)
class Outgoing:
    topic: str
    key: bytes
    value: bytes
    headers: Headers = dataclasses.field(default_factory=list)


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

    def deliver(
        self, messages: Sequence[Outgoing], timeout_s: float = 30.0
    ) -> list[Exception | None]:
        """Send messages and wait for each: None where acknowledged, else that message's error."""

    def close(self) -> None: ...


class Subscriber(Protocol):
    def poll(self, timeout_s: float) -> list[Message]: ...

    def commit(self, offsets: dict[tuple[str, int], int]) -> None:
        """Commit, per (topic, partition), the offset of the next message to read."""

    def seek(self, topic: str, partition: int, offset: int) -> None: ...

    def close(self) -> None: ...


class KafkaPublisher:
    """Idempotent producer with acks=all: per-partition order holds across retries.

    After an error that is not one message's fault (a broker that restarted and forgot this
    producer's id answers UnknownProducerId for ever) the producer is closed and a new one made.
    """

    def __init__(self, bootstrap_servers: str, client_id: str = "tandem", **config) -> None:
        self._config = {
            "bootstrap_servers": bootstrap_servers.split(","),
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": config.pop("linger_ms", 2),
            "max_request_size": config.pop("max_request_size", 1_048_576),
            # Bounded waits, so a broker that went away is noticed in seconds, not minutes.
            "max_block_ms": config.pop("max_block_ms", 10_000),
            "request_timeout_ms": config.pop("request_timeout_ms", 10_000),
            "delivery_timeout_ms": config.pop("delivery_timeout_ms", 20_000),
            **config,
        }
        self._producer = KafkaProducer(**self._config)
        self._pending: list = []
        self.recreated = 0

    def publish(self, topic: str, key: bytes, value: bytes, headers: Headers | None = None) -> None:
        try:
            future = self._producer.send(topic, key=key, value=value, headers=headers or [])
        except Exception as exc:
            self._recover_from(exc)
            raise
        self._pending.append(future)

    def flush(self, timeout_s: float = 30.0) -> None:
        pending, self._pending = self._pending, []
        try:
            self._producer.flush(timeout=timeout_s)
            for future in pending:
                future.get(timeout=timeout_s)
        except Exception as exc:
            self._recover_from(exc)
            raise

    def deliver(
        self, messages: Sequence[Outgoing], timeout_s: float = 30.0
    ) -> list[Exception | None]:
        futures: list = []
        for m in messages:
            try:
                futures.append(
                    self._producer.send(m.topic, key=m.key, value=m.value, headers=m.headers)
                )
            except Exception as exc:  # refused before sending: too large, or no metadata in time
                futures.append(exc)
        try:
            self._producer.flush(timeout=timeout_s)
        except Exception as exc:
            self._recover_from(exc)
            return [_settled(f, exc) for f in futures]
        outcomes = [_outcome(f, timeout_s) for f in futures]
        broken = next((o for o in outcomes if o is not None and not is_message_error(o)), None)
        if broken is not None:
            self._recover_from(broken)
        return outcomes

    def _recover_from(self, exc: BaseException) -> None:
        if is_message_error(exc):
            return
        log.warning("producer %s: %r; starting a new producer", self._config["client_id"], exc)
        with contextlib.suppress(Exception):
            self._producer.close(timeout=0)
        self._producer = KafkaProducer(**self._config)
        self._pending = []
        self.recreated += 1

    def close(self) -> None:
        self._producer.close(timeout=5)


def _settled(future, failure: Exception) -> Exception | None:
    """After a failed flush: None for a message the broker did acknowledge, else the failure."""
    if isinstance(future, Exception):
        return future
    if future.is_done and future.succeeded():
        return None
    return future.exception if future.is_done else failure


def _outcome(future, timeout_s: float) -> Exception | None:
    if isinstance(future, Exception):
        return future
    try:
        future.get(timeout=timeout_s)
        return None
    except Exception as exc:
        return exc


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
        self._rewind = _Rewind(self._consumer)
        self._consumer.subscribe(topics=list(topics), listener=self._rewind)

    def rewind(self) -> None:
        """Read every partition from its start once, those held now and those assigned later,
        whatever the group committed: for after the broker lost its offsets. The member is kept:
        it re-joins by itself, while a new member can wait a long time on the embedded broker."""
        self._rewind.arm()

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


class _Rewind(ConsumerRebalanceListener):
    """Once armed, seeks each partition to its start the next time this member holds it."""

    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer
        self.armed = False
        self.rewound: set[TopicPartition] = set()

    def arm(self) -> None:
        self.armed, self.rewound = True, set()
        self.on_partitions_assigned(self.consumer.assignment())

    def on_partitions_revoked(self, revoked) -> None:
        pass

    def on_partitions_assigned(self, assigned) -> None:
        fresh = [tp for tp in assigned if self.armed and tp not in self.rewound]
        if fresh:
            self.consumer.seek_to_beginning(*fresh)
            self.rewound.update(fresh)


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


SETTLE_AFTER_LOSS_S = 15.0


class BrokerWatch:
    """Notices a broker that lost what it held, and measures a consumer group's lag.

    A loss shows as another cluster id (the embedded broker gets a fresh one at each start), or
    as the service's own topic ending below where it ended before (end offsets never go back on
    a broker that kept its data). Each loss adds one to `losses`; whoever depends on the broker's
    memory compares it with the count it last healed for. One thread calls check().
    """

    def __init__(
        self,
        bootstrap_servers: str,
        own_topic: str | None = None,
        group: str | None = None,
        subscriptions: Sequence[str] = (),
    ) -> None:
        self.bootstrap_servers = bootstrap_servers.split(",")
        self.own_topic = own_topic
        self.group = group
        self.subscriptions = list(subscriptions)
        self.losses = 0
        self.cluster_id: str | None = None
        self.lag: int | None = None
        self.lag_by_partition: dict[tuple[str, int], int] = {}
        self.reachable = False  # whether the broker answered the last check
        self._own_end: int | None = None
        self._settled_at = 0.0
        self._admin: KafkaAdminClient | None = None
        self._consumer: KafkaConsumer | None = None

    def check(self) -> bool:
        """Look once; True if a loss was noticed now. Errors mean "cannot tell", not a loss."""
        lost = False
        # Each signal on its own: one that fails must not swallow what the other saw.
        for signal in (self._cluster_changed, self._own_topic_shrank):
            try:
                lost = signal() or lost
            except Exception as exc:
                log.debug("broker watch: %r", exc)
                self.close()
        if lost:
            self.losses += 1
            log.warning("the broker lost its topics and offsets (loss %d)", self.losses)
            # While the topics fill again their end offsets say little: measure afresh later.
            self._own_end = None
            self._settled_at = time.monotonic() + SETTLE_AFTER_LOSS_S
        if self.group and self.subscriptions:
            try:
                self.lag = self._group_lag()
            except Exception as exc:
                log.debug("broker watch: lag: %r", exc)
                self.lag = None
                self.close()
        return lost

    def _cluster_changed(self) -> bool:
        self.reachable = False
        cluster_id = self._admin_client().describe_cluster()["cluster_id"]
        self.reachable = True
        changed = self.cluster_id is not None and cluster_id != self.cluster_id
        self.cluster_id = cluster_id
        return changed

    def _own_topic_shrank(self) -> bool:
        if not self.own_topic or time.monotonic() < self._settled_at:
            return False
        end = sum(self.end_offsets([self.own_topic]).values())
        shrank = self._own_end is not None and end < self._own_end
        self._own_end = end
        return shrank

    def end_offsets(self, topics: Iterable[str]) -> dict[tuple[str, int], int]:
        """Per partition, the offset after the last message (a missing topic has none)."""
        consumer = self._offsets_consumer()
        consumer.topics()  # refresh metadata
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
        if not partitions:
            return {}
        ends = consumer.end_offsets(partitions)
        return {(tp.topic, tp.partition): offset for tp, offset in ends.items()}

    def _group_lag(self) -> int:
        assert self.group is not None
        committed = self._admin_client().list_group_offsets(self.group).get(self.group, {})
        done = {(tp.topic, tp.partition): max(o.offset, 0) for tp, o in committed.items()}
        ends = self.end_offsets(self.subscriptions)
        self.lag_by_partition = {key: max(end - done.get(key, 0), 0) for key, end in ends.items()}
        return sum(self.lag_by_partition.values())

    def _admin_client(self) -> KafkaAdminClient:
        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap_servers,
                client_id="tandem-watch",
                request_timeout_ms=5000,
            )
        return self._admin

    def _offsets_consumer(self) -> KafkaConsumer:
        if self._consumer is None:
            self._consumer = KafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                client_id="tandem-watch",
                enable_auto_commit=False,
                group_id=None,
                allow_auto_create_topics=False,  # looking must not bring a lost topic back
                request_timeout_ms=8000,
                session_timeout_ms=6000,
                heartbeat_interval_ms=2000,
            )
        return self._consumer

    def close(self) -> None:
        for client in (self._admin, self._consumer):
            if client is not None:
                with contextlib.suppress(Exception):
                    client.close()
        self._admin = None
        self._consumer = None


def topic_is_empty(bootstrap_servers: str, topic: str) -> bool:
    """True if the topic is missing or holds no message; False when it has some or the broker
    cannot tell now."""
    watch = BrokerWatch(bootstrap_servers)
    try:
        return sum(watch.end_offsets([topic]).values()) == 0
    except KafkaError:
        return False
    finally:
        watch.close()
