"""Tamper evidence against someone who can write the database.

Each stream's hash chain (`hashchain.py`) uses a public recipe, so whoever can write the store
can rewrite an event and recompute its hashes, or delete a stream's tail or a whole stream. The
seal closes those gaps:

- every event gets the next number of one store-wide sequence (`seq`, dense from 1), so a deleted
  event or stream leaves a gap;
- every event's `seal` is an HMAC, under a key kept outside the database (`TANDEM_AUDIT_KEY`),
  of the previous seal, its number and its hash: an event rewritten, re-hashed or moved breaks
  the seal chain, and only the key's holder can re-seal;
- signed checkpoints of the store's head (sequence and seal) are written outside the store, so
  a deleted tail of the whole store is caught by the next verification.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Self

GENESIS_SEAL = "0" * 64
# Checkpoints also go out on the service's own topic, marked by this header, so a copy lives
# wherever the topic is kept; consumers skip them (they are not events).
CHECKPOINT_HEADER = ("tandem-kind", b"checkpoint")


def is_checkpoint_message(headers) -> bool:
    return any((key, value) == CHECKPOINT_HEADER for key, value in headers or ())


def seal_of(key: bytes, prev_seal: str, seq: int, event_hash: str) -> str:
    return hmac.new(key, f"{prev_seal}|{seq}|{event_hash}".encode(), hashlib.sha256).hexdigest()


def sealed(key: bytes, head: tuple[int, str], hashes: Iterable[str]) -> Iterator[tuple[int, str]]:
    """(seq, seal) for events with these hashes, appended after the head (seq, seal)."""
    seq, seal = head
    for event_hash in hashes:
        seq += 1
        seal = seal_of(key, seal, seq, event_hash)
        yield seq, seal


class Signed:
    """A record signed with the audit key over its `_message()`, kept outside the database."""

    signature: str

    def _message(self) -> bytes:
        raise NotImplementedError

    def signed(self, key: bytes) -> Self:
        signature = hmac.new(key, self._message(), hashlib.sha256).hexdigest()
        return dataclasses.replace(self, signature=signature)  # type: ignore[type-var]

    def authentic(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).signature, self.signature)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)  # type: ignore[call-overload]


@dataclasses.dataclass(frozen=True)
class Checkpoint(Signed):
    """A signed record of a store's head at one moment, kept where the database writer is not."""

    service: str
    seq: int
    seal: str
    at: str
    signature: str = ""

    def _message(self) -> bytes:
        return f"checkpoint|{self.service}|{self.seq}|{self.seal}|{self.at}".encode()

    @classmethod
    def from_json(cls, line: str) -> Checkpoint:
        data = json.loads(line)
        return cls(
            str(data["service"]), int(data["seq"]), str(data["seal"]), str(data["at"]),
            str(data.get("signature", "")),
        )  # fmt: skip


class CheckpointFile:
    """Checkpoints as JSON lines in one file per service (ship it off the database host)."""

    def __init__(self, directory: Path, service: str) -> None:
        self.path = directory / f"{service}.checkpoints.jsonl"

    def append(self, checkpoint: Checkpoint) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(checkpoint.to_json() + "\n")

    def read(self) -> list[Checkpoint]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [Checkpoint.from_json(line) for line in lines if line.strip()]


@dataclasses.dataclass(frozen=True)
class SealBreak:
    seq: int | None
    stream_id: str
    stream_version: int
    event_id: str
    reason: str


def verify_seals(key: bytes, rows: Iterable) -> tuple[int, tuple[int, str], SealBreak | None]:
    """Walk event rows in sequence order: (rows checked, head (seq, seal), the first break).

    The walk goes on past a break, chaining from what is stored, so each kind of break is found
    where it first occurs; the one reported is the most telling: an unsealed event or a gap
    first, then reordering, then a seal that does not match. Rows need seq, seal, hash,
    position, stream_id, stream_version and event_id.
    """
    head, last_position, count = (0, GENESIS_SEAL), 0, 0
    found: dict[int, SealBreak] = {}
    for row in rows:
        count += 1
        kind, problem = _problem(key, head, last_position, row)
        if problem and kind not in found:
            found[kind] = SealBreak(
                row.seq, row.stream_id, row.stream_version, row.event_id, problem
            )
        if row.seq is None:
            continue
        head, last_position = (row.seq, row.seal or ""), max(last_position, row.position)
    first = found[min(found)] if found else None
    return count, head, first


def _problem(key: bytes, head: tuple[int, str], last_position: int, row) -> tuple[int, str]:
    if row.seq is None:
        return 0, "the event is not sealed: it was inserted around the store"
    if row.seq != head[0] + 1:
        return 1, (
            f"events {head[0] + 1} to {row.seq - 1} of the store's sequence are missing: "
            "deleted events or a deleted stream"
        )
    if row.position < last_position:
        return 2, "events were reordered: store order and sequence disagree"
    if not hmac.compare_digest(seal_of(key, head[1], row.seq, row.hash), row.seal or ""):
        return 3, "the seal does not match: the event was rewritten, re-hashed or moved"
    return 0, ""


def check_checkpoints(
    key: bytes, service: str, head: tuple[int, str], seal_at: dict[int, str], checkpoints
) -> str | None:
    """The first way the store contradicts a checkpoint kept outside it, or None.

    `seal_at` maps each checkpoint's sequence number to the seal the store holds there.
    """
    for checkpoint in checkpoints:
        if checkpoint.service != service:
            continue
        if not checkpoint.authentic(key):
            return f"the checkpoint of {checkpoint.at} is not signed with the audit key"
        if checkpoint.seq > head[0]:
            return (
                f"deleted tail: the store ends at event {head[0]}, but the checkpoint of "
                f"{checkpoint.at} saw event {checkpoint.seq}"
            )
        if checkpoint.seq and seal_at.get(checkpoint.seq) != checkpoint.seal:
            return f"event {checkpoint.seq} differs from the checkpoint of {checkpoint.at}"
    return None


@dataclasses.dataclass(frozen=True)
class Verification(Signed):
    """The last full verification of a store, signed, so the audit page can show it without
    reading the store, and a database writer cannot turn a broken result into a clean one."""

    service: str
    ok: bool
    events_checked: int
    streams_checked: int
    checked_at: str
    first_break: dict | None = None  # position, stream_id, stream_version, event_id, reason
    signature: str = ""

    def _message(self) -> bytes:
        fields = dataclasses.asdict(self)
        fields.pop("signature")
        return ("verification|" + json.dumps(fields, sort_keys=True)).encode()

    @classmethod
    def from_json(cls, text: str) -> Verification:
        data = json.loads(text)
        return cls(
            str(data["service"]), bool(data["ok"]), int(data["events_checked"]),
            int(data["streams_checked"]), str(data["checked_at"]), data.get("first_break"),
            str(data.get("signature", "")),
        )  # fmt: skip


class VerificationFile:
    """The last verification of a service's store, beside its checkpoints (one file, replaced
    whole, so a reader never sees half of one)."""

    def __init__(self, directory: Path, service: str) -> None:
        self.path = directory / f"{service}.verification.json"

    def write(self, verification: Verification) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(verification.to_json() + "\n", encoding="utf-8")
        os.replace(partial, self.path)

    def read(self) -> Verification | None:
        try:
            return Verification.from_json(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return Verification("", False, 0, 0, "", {"reason": "unreadable"}, "")
