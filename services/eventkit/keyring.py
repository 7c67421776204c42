"""The keyring: one data key per person, kept outside every event store.

Its own database (`TANDEM_KEYRING_URL`, by default `var/keyring.db`) holds each person's data key
wrapped (AES-GCM) under the key-encryption key `TANDEM_KEYRING_KEY`, which, like the audit key,
is read from the environment and never stored beside the data. Erasing a person deletes their
wrapped key and keeps a tombstone (when, by whom), so nothing is sealed under a key of theirs
again and every reader knows to show placeholders.

Each process caches what it read for a few seconds; an erasure clears the cache of the process
that learns of it (the erasing one, and every consumer applying `PersonErased`).
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Iterable

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import config
from .db import make_engine, reading
from .envelope import Envelope, utcnow
from .personal import KeyState, new_key, protect, reveal, subject
from .registry import Registry

CACHE_S = 5.0

metadata = sa.MetaData()
person_keys = sa.Table(
    "person_keys", metadata,
    sa.Column("person_id", sa.String(200), primary_key=True),
    sa.Column("wrapped_key", sa.Text, nullable=True),  # None once erased
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("erased_by", sa.String(200), nullable=True),
)  # fmt: skip


class Keyring:
    def __init__(self, url: str, kek: bytes, cache_s: float = CACHE_S) -> None:
        self.engine = make_engine(url)
        metadata.create_all(self.engine, checkfirst=True)
        self._kek = AESGCM(hashlib.sha256(kek).digest())
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, KeyState]] = {}
        self._lock = threading.Lock()

    # --- wrapping -------------------------------------------------------------------------------

    def _wrap(self, person_id: str, key: bytes) -> str:
        nonce = os.urandom(12)
        return base64.b64encode(nonce + self._kek.encrypt(nonce, key, person_id.encode())).decode()

    def _unwrap(self, person_id: str, wrapped: str) -> bytes | None:
        raw = base64.b64decode(wrapped)
        try:
            return self._kek.decrypt(raw[:12], raw[12:], person_id.encode())
        except InvalidTag:
            return None  # wrapped under another key-encryption key: unreadable

    # --- reading and writing --------------------------------------------------------------------

    def state(self, person_id: str) -> KeyState:
        """(the person's key or None, whether they were erased)."""
        cached = self._cached(person_id, time.monotonic())
        if cached is not None:
            return cached
        self.load([person_id])
        with self._lock:
            return self._cache.get(person_id, (0.0, (None, False)))[1]

    def _cached(self, person_id: str, now: float) -> KeyState | None:
        with self._lock:
            cached = self._cache.get(person_id)
        if cached is not None and (cached[1][1] or now - cached[0] < self._cache_s):
            return cached[1]  # an erasure is for good: its tombstone never goes stale
        return None

    def load(self, person_ids: Iterable[str]) -> set[str]:
        """Read the keys of many people at once (one query a few hundred people) into the
        cache; return those the keyring holds nothing for, who are cached as such too."""
        now = time.monotonic()
        wanted: set[str] = set()
        missing: set[str] = set()
        for person_id in person_ids:
            cached = self._cached(person_id, now)
            if cached is None:
                wanted.add(person_id)
            elif cached == (None, False):
                missing.add(person_id)
        if not wanted:
            return missing
        found: dict[str, KeyState] = {}
        with reading(self.engine) as conn:  # no write lock: appends write keys meanwhile
            for chunk in _chunks(sorted(wanted), 500):
                for row in conn.execute(
                    sa.select(
                        person_keys.c.person_id, person_keys.c.wrapped_key, person_keys.c.erased_at
                    ).where(person_keys.c.person_id.in_(chunk))
                ):
                    erased = row.erased_at is not None or row.wrapped_key is None
                    key = None if erased else self._unwrap(row.person_id, row.wrapped_key)
                    found[row.person_id] = (key, erased)
        unknown = wanted - found.keys()
        with self._lock:
            self._cache.update({p: (now, state) for p, state in found.items()})
            self._cache.update({p: (now, (None, False)) for p in unknown})
        return missing | unknown

    def key_for_writing(self, person_id: str) -> bytes | None:
        """The person's key, made on first use; None once they were erased."""
        key, erased = self.state(person_id)
        if erased or key is not None:
            return key
        self.prepare([person_id])
        key, erased = self.state(person_id)
        if key is None and not erased:
            raise RuntimeError(f"the keyring holds an unreadable key for {person_id}")
        return key

    def prepare(self, person_ids: Iterable[str]) -> None:
        """Read (or make) the keys of many people at once: one query and at most one insert for
        a whole batch of events, instead of a round trip per person."""
        made = {p: new_key() for p in self.load(person_ids)}
        if not made:
            return
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    person_keys.insert(),
                    [{"person_id": p, "wrapped_key": self._wrap(p, k), "created_at": utcnow()}
                     for p, k in made.items()],
                )  # fmt: skip
        except sa.exc.IntegrityError:
            self.forget_all(made)  # another process made some first: read theirs on first use
            return
        now = time.monotonic()
        with self._lock:
            self._cache.update({p: (now, (k, False)) for p, k in made.items()})

    def adopt(self, keys: dict[str, bytes | None], by: str) -> None:
        """People's keys brought from another deployment (None: erased there, kept as a
        tombstone), wrapped under this keyring's key; IntegrityError if one is known here."""
        now = utcnow()
        rows = [
            {"person_id": p, "wrapped_key": None if k is None else self._wrap(p, k),
             "created_at": now, "erased_at": now if k is None else None,
             "erased_by": by if k is None else None}
            for p, k in keys.items()
        ]  # fmt: skip
        if rows:
            with self.engine.begin() as conn:
                conn.execute(person_keys.insert(), rows)

    def erase(self, person_id: str, by: str) -> bool:
        """Destroy the person's key (a tombstone stays); True if there was a key to destroy."""
        with self.engine.begin() as conn:
            destroyed = conn.execute(
                person_keys.update()
                .where(person_keys.c.person_id == person_id, person_keys.c.erased_at.is_(None))
                .values(wrapped_key=None, erased_at=utcnow(), erased_by=by)
            ).rowcount
            if not destroyed:
                known = conn.execute(
                    sa.select(person_keys.c.person_id).where(person_keys.c.person_id == person_id)
                ).first()
                if known is None:  # never had a key: the tombstone still stops new ones
                    conn.execute(
                        person_keys.insert().values(
                            person_id=person_id, wrapped_key=None, created_at=utcnow(),
                            erased_at=utcnow(), erased_by=by,
                        )
                    )  # fmt: skip
        self.forget(person_id)
        return bool(destroyed)

    def is_erased(self, person_id: str) -> bool:
        return self.state(person_id)[1]

    def forget(self, person_id: str) -> None:
        self.forget_all([person_id])

    def forget_all(self, person_ids: Iterable[str]) -> None:
        with self._lock:
            for person_id in person_ids:
                self._cache.pop(person_id, None)

    # --- events ---------------------------------------------------------------------------------

    def prepare_for(self, registry: Registry, events: Iterable[tuple[str, dict]]) -> None:
        """Have the keys ready of everyone whose personal fields these (type, payload) hold."""
        people = {subject(registry.get(t).personal, p) for t, p in events}
        self.prepare(p for p in people if p is not None)

    def prepare_to_read(self, registry: Registry, events: Iterable[Envelope]) -> None:
        """Have the keys ready of everyone whose personal fields these stored events hold."""
        people = {
            subject(registry.get(e.event_type).personal, e.payload)
            for e in events
            if registry.knows(e.event_type)
        }
        self.load(p for p in people if p is not None)

    def sealed(self, registry: Registry, event_type: str, payload: dict) -> dict:
        """The payload as stored: its personal fields sealed (see personal.protect)."""
        personal = registry.get(event_type).personal
        return protect(personal, payload, self.key_for_writing)

    def as_written(self, registry: Registry, event: Envelope, plain: dict) -> Envelope:
        """A just-sealed event as readers see it: its plaintext when its person's key sealed it
        (opening it again would give the same), else what `readable` shows."""
        person_id = subject(registry.get(event.event_type).personal, plain)
        if person_id is not None:
            key, erased = self.state(person_id)
            if key is None or erased:
                return self.readable(registry, event)
        return event.with_payload(plain)

    def readable(self, registry: Registry, event: Envelope) -> Envelope:
        """The event as readers see it: personal fields opened (or placeholders), then upcast."""
        known = registry.knows(event.event_type)
        personal = registry.get(event.event_type).personal if known else None
        if personal is not None:
            payload, hidden = reveal(personal, event.payload, self.state)
            event = event.with_payload(payload, erased=hidden)
        return registry.current(event)


_keyrings: dict[tuple[str, ...], Keyring] = {}
_keyrings_lock = threading.Lock()


def default() -> Keyring:
    """The keyring the configuration names (one per URL and key in this process)."""
    # Keyed by what the configuration is read from (not the key file, nor a resolved path), so
    # a lookup, made for every event read, touches neither the disk nor the file system.
    named = (
        os.environ.get("TANDEM_KEYRING_URL", ""),
        os.environ.get("TANDEM_VAR_DIR", ""),
        os.getcwd(),
        os.environ.get(config.KEYRING_KEY_VARIABLE, ""),
    )
    with _keyrings_lock:
        found = _keyrings.get(named)
        if found is None:
            found = _keyrings[named] = Keyring(config.keyring_url(), config.keyring_key())
        return found


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def readable(registry: Registry, event: Envelope) -> Envelope:
    return default().readable(registry, event)


def forget(person_id: str) -> None:
    """Drop what this process cached of the person's key (after an erasure)."""
    with _keyrings_lock:
        rings = list(_keyrings.values())
    for ring in rings:
        ring.forget(person_id)
