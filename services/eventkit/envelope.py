"""The envelope every event travels in, and its canonical JSON form.

Pure Python: no database or broker code, so domain code and unit tests can use it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from typing import Any

from . import json_codec

GENESIS_HASH = "0" * 64
SYSTEM_ACTOR = {"id": "system", "role": "system"}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def canonical_json(value: Any) -> str:
    """Stable JSON: sorted keys, no whitespace, UTF-8. Hashes are taken over this."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def format_time(value: dt.datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


@dataclasses.dataclass(frozen=True)
class Envelope:
    """One stored, published event."""

    event_id: str
    event_type: str
    schema_version: int
    stream_id: str
    stream_version: int
    institution_id: str | None
    actor: dict[str, str]
    occurred_at: dt.datetime
    correlation_id: str
    causation_id: str | None
    payload: dict[str, Any]
    prev_hash: str = GENESIS_HASH
    hash: str = ""
    # Personal fields this reader could not show (their person was erased): they hold
    # placeholders. Not part of the event: neither hashed nor serialised.
    erased: tuple[str, ...] = dataclasses.field(default=(), compare=False)

    def hashed_fields(self) -> dict[str, Any]:
        """Everything the hash covers: the whole envelope except the hash itself."""
        return {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "schema_version": self.schema_version,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "institution_id": self.institution_id,
            "actor": self.actor,
            "occurred_at": format_time(self.occurred_at),
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "payload": self.payload,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.hashed_fields()).encode()).hexdigest()

    def sealed(self, prev_hash: str) -> Envelope:
        """This event chained after `prev_hash`, with its own hash filled in."""
        linked = dataclasses.replace(self, prev_hash=prev_hash, hash="")
        return dataclasses.replace(linked, hash=linked.compute_hash())

    def with_payload(self, payload: dict[str, Any], erased: tuple[str, ...] = ()) -> Envelope:
        """The same event as a reader sees it (the hash stays that of the stored event)."""
        return dataclasses.replace(self, payload=payload, erased=erased)

    def to_dict(self) -> dict[str, Any]:
        return {**self.hashed_fields(), "hash": self.hash}

    def to_json(self) -> bytes:
        return canonical_json(self.to_dict()).encode()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        try:
            return cls(
                event_id=str(data["event_id"]),
                event_type=str(data["event_type"]),
                schema_version=int(data["schema_version"]),
                stream_id=str(data["stream_id"]),
                stream_version=int(data["stream_version"]),
                institution_id=data.get("institution_id"),
                actor=dict(data["actor"]),
                occurred_at=parse_time(data["occurred_at"]),
                correlation_id=str(data["correlation_id"]),
                causation_id=data.get("causation_id"),
                payload=dict(data["payload"]),
                prev_hash=str(data.get("prev_hash", GENESIS_HASH)),
                hash=str(data.get("hash", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedEvent(f"not a Tandem event envelope: {exc!r}") from exc

    @classmethod
    def from_json(cls, raw: bytes) -> Envelope:
        try:
            data = json_codec.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedEvent(f"not JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise MalformedEvent("not a JSON object")
        return cls.from_dict(data)


class MalformedEvent(ValueError):
    """Raised for bytes or dicts that are not a valid envelope."""


@dataclasses.dataclass(frozen=True)
class NewEvent:
    """An event a command decided on, before the store gives it a place in a stream."""

    event_type: str
    payload: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Metadata:
    """Who did it and why: carried from the request (or the causing event) into every event."""

    institution_id: str | None
    actor: dict[str, str] = dataclasses.field(default_factory=lambda: dict(SYSTEM_ACTOR))
    correlation_id: str = dataclasses.field(default_factory=new_id)
    causation_id: str | None = None

    @classmethod
    def caused_by(cls, event: Envelope, institution_id: str | None = None) -> Metadata:
        """Metadata for an event a handler writes in reaction to `event`."""
        return cls(
            institution_id=institution_id if institution_id is not None else event.institution_id,
            actor=dict(SYSTEM_ACTOR),
            correlation_id=event.correlation_id,
            causation_id=event.event_id,
        )
