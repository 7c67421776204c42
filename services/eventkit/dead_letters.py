"""Dead-lettered messages: what a consumer gave up on, read back from `<topic>.dlq`, and sent
again to the topic they came from once the cause is fixed (consumers' inboxes make a message
that was applied after all harmless)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Sequence

from .bus import KafkaPublisher, Message, read_topics_from_start
from .envelope import utcnow

REDRIVEN_HEADER = "redriven_from"


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    topic: str  # the dead-letter topic
    partition: int
    offset: int
    key: str
    value: bytes
    headers: dict[str, str]

    @property
    def ref(self) -> str:
        """How an operator names it: `<dlq topic>:<partition>:<offset>`."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def source_topic(self) -> str:
        return self.headers.get("source_topic") or self.topic.removesuffix(".dlq")

    def event(self) -> dict:
        try:
            body = json.loads(self.value)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    def summary(self) -> dict:
        """Where it came from and why it failed: ids and the error, never the payload."""
        event = self.event()
        return {
            "ref": self.ref,
            "consumer": self.headers.get("consumer") or None,
            "source": f"{self.source_topic}[{self.headers.get('source_partition', '?')}]"
            f"@{self.headers.get('source_offset', '?')}",
            "event_type": event.get("event_type"),
            "event_id": event.get("event_id"),
            "stream_id": self.key,
            "attempts": int(self.headers.get("attempts") or 0),
            "failed_at": self.headers.get("failed_at"),
            "error": self.headers.get("error", ""),
        }


def parse_ref(ref: str) -> tuple[str, int, int]:
    """`<dlq topic>:<partition>:<offset>` (the topic may hold dots, never colons)."""
    topic, partition, offset = ref.rsplit(":", 2)
    if not topic.endswith(".dlq"):
        raise ValueError(f"{topic!r} is not a dead-letter topic")
    return topic, int(partition), int(offset)


def _letter(message: Message) -> DeadLetter:
    headers = {k: v.decode("utf-8", "replace") for k, v in message.headers}
    return DeadLetter(
        message.topic,
        message.partition,
        message.offset,
        (message.key or b"").decode("utf-8", "replace"),
        message.value or b"",
        headers,
    )


def read(bootstrap: str, topics: Iterable[str], idle_s: float = 2.0) -> list[DeadLetter]:
    """Every message now on the dead-letter topics, oldest first within each partition."""
    letters = [_letter(m) for m in read_topics_from_start(bootstrap, topics, idle_s=idle_s)]
    return sorted(letters, key=lambda d: (d.topic, d.partition, d.offset))


def find(letters: Sequence[DeadLetter], ref: str) -> DeadLetter | None:
    topic, partition, offset = parse_ref(ref)
    return next(
        (d for d in letters if (d.topic, d.partition, d.offset) == (topic, partition, offset)),
        None,
    )


def redrive(bootstrap: str, letters: Sequence[DeadLetter]) -> int:
    """Publish each letter again, key and value as they were, on its source topic."""
    publisher = KafkaPublisher(bootstrap, client_id="tandem-redrive")
    try:
        for letter in letters:
            headers = [
                (REDRIVEN_HEADER, letter.ref.encode()),
                ("redriven_at", utcnow().isoformat().encode()),
            ]
            publisher.publish(letter.source_topic, letter.key.encode(), letter.value, headers)
        publisher.flush()
    finally:
        publisher.close()
    return len(letters)
