"""Personal fields of events, sealed under the key of the person they are about (crypto-shredding).

A contract declares which fields of an event are personal and whose they are
(`Personal(subject="person_id", fields=("name", "email"))`). The store seals those fields before
the event is hashed, so the stored row, its hash chain and the topic all carry ciphertext:

    "pii1:<kind>:<base64url(nonce | AES-GCM ciphertext)>"

where kind says what the plaintext was (s string, d object, l list, j anything else), so a field
whose key is gone still reads as a value of its type. The associated data binds each value to its
person and field, so ciphertext moved to another field or person does not open.

Erasing a person destroys their key: their sealed fields then read as placeholders ("erased
person"; the email as an address at the reserved `.invalid` domain, still unique) and the event
says which fields it could not show (`Envelope.erased`). Plaintext written before sealing existed
stays readable, and once its person is erased it is masked the same way on every read.

Pure: the keys come from a lookup the caller passes (see `keyring.py`).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .envelope import canonical_json

ERASED = "erased person"
MARK = "pii1:"
KEY_BYTES = 32
_NONCE_BYTES = 12
_KINDS = {str: "s", dict: "d", list: "l"}
# What a field reads as once its person is erased, by the kind of value it held.
_PLACEHOLDERS: Mapping[str, Any] = {"s": ERASED, "d": None, "l": [], "j": None}

# (the person's key, or None without one; whether the person was erased)
KeyState = tuple[bytes | None, bool]
KeyLookup = Callable[[str], KeyState]


@dataclasses.dataclass(frozen=True)
class Personal:
    """The personal fields of an event type and the payload field naming whose they are."""

    subject: str
    fields: tuple[str, ...]


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def erased_email(person_id: str) -> str:
    """An erased person's email: no address of anyone, and still unique (emails are)."""
    return f"erased-{person_id}@erased.invalid"


def placeholder(field: str, kind: str, person_id: str) -> Any:
    if field == "email":
        return erased_email(person_id)
    return _PLACEHOLDERS.get(kind)


def kind_of(value: Any) -> str:
    return _KINDS.get(type(value), "j")


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(MARK)


def _context(person_id: str, field: str) -> bytes:
    return f"{person_id}\x1f{field}".encode()


def seal_value(key: bytes, person_id: str, field: str, value: Any) -> str:
    nonce = os.urandom(_NONCE_BYTES)
    plain = canonical_json(value).encode()
    sealed = AESGCM(key).encrypt(nonce, plain, _context(person_id, field))
    return f"{MARK}{kind_of(value)}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def open_value(key: bytes | None, person_id: str, field: str, token: str) -> tuple[Any, bool]:
    """(the value, True) if the key opens it; else (the field's placeholder, False)."""
    kind, _, body = token[len(MARK) :].partition(":")
    if key is not None:
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            plain = AESGCM(key).decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _context(person_id, field)
            )
            return json.loads(plain), True
        except (InvalidTag, ValueError):
            pass  # unreadable is the same as erased: never an exception to the reader
    return placeholder(field, kind, person_id), False


def _present(personal: Personal, payload: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    subject = payload.get(personal.subject)
    fields = [f for f in personal.fields if payload.get(f) is not None]
    return (str(subject) if subject else None), fields


def subject(personal: Personal | None, payload: Mapping[str, Any]) -> str | None:
    """Whose personal fields the payload holds, if it holds any."""
    if personal is None:
        return None
    person_id, fields = _present(personal, payload)
    return person_id if fields else None


def protect(
    personal: Personal | None,
    payload: dict[str, Any],
    key_for_writing: Callable[[str], bytes | None],
) -> dict[str, Any]:
    """The payload with its personal fields sealed; an erased person's (no key to write with)
    are stored as placeholders, so nothing of theirs is written again."""
    if personal is None:
        return payload
    person_id, fields = _present(personal, payload)
    if person_id is None or not fields:
        return payload
    key = key_for_writing(person_id)
    sealed = dict(payload)
    for field in fields:
        value = payload[field]
        if is_sealed(value):
            continue
        sealed[field] = (
            seal_value(key, person_id, field, value)
            if key is not None
            else placeholder(field, kind_of(value), person_id)
        )
    return sealed


def reveal(
    personal: Personal | None, payload: dict[str, Any], lookup: KeyLookup
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The payload as readers see it, and the personal fields shown as placeholders."""
    if personal is None:
        return payload, ()
    person_id, fields = _present(personal, payload)
    if person_id is None or not fields:
        return payload, ()
    key, erased = lookup(person_id)
    shown = dict(payload)
    hidden: list[str] = []
    for field in fields:
        value = payload[field]
        if is_sealed(value):
            shown[field], opened = open_value(None if erased else key, person_id, field, value)
        else:
            # Plaintext from before sealing: readable, until its person is erased.
            opened = not erased
            if erased:
                shown[field] = placeholder(field, kind_of(value), person_id)
        if not opened:
            hidden.append(field)
    return shown, tuple(hidden)
