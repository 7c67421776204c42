"""Event types: a marshmallow schema per type and version, upcasters for old versions."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import marshmallow as ma

from .envelope import Envelope
from .personal import Personal

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(KeyError):
    pass


@dataclasses.dataclass
class EventType:
    name: str
    schema: type[ma.Schema]
    version: int = 1
    # upcasters[n] turns a payload of version n into version n + 1.
    upcasters: dict[int, Upcaster] = dataclasses.field(default_factory=dict)
    # What goes on the topic instead of the stored payload, for events too large to publish
    # whole (a summary and where to read the rest). The store keeps the full payload.
    wire: Upcaster | None = None
    # The fields sealed under the key of the person they are about (see personal.py).
    personal: Personal | None = None
    _schema: ma.Schema | None = dataclasses.field(default=None, init=False, repr=False)

    def on_wire(self, payload: dict[str, Any]) -> dict[str, Any]:
        return self.wire(payload) if self.wire else payload

    def validate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload as the current schema accepts it; raises marshmallow.ValidationError."""
        return self._loader().load(payload)

    def _loader(self) -> ma.Schema:
        # One instance per type: building a schema costs more than loading a payload with it.
        if self._schema is None:
            self._schema = self.schema()
        return self._schema

    def upcast(self, payload: dict[str, Any], from_version: int) -> dict[str, Any]:
        version = from_version
        while version < self.version:
            step = self.upcasters.get(version)
            if step is None:
                raise ValueError(f"{self.name}: no upcaster from version {version}")
            payload = step(payload)
            version += 1
        return payload


class Registry:
    """The event types a service writes or reads."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def register(
        self,
        name: str,
        schema: type[ma.Schema],
        version: int = 1,
        upcasters: dict[int, Upcaster] | None = None,
        wire: Upcaster | None = None,
        personal: Personal | None = None,
    ) -> EventType:
        if name in self._types:
            raise ValueError(f"event type {name} registered twice")
        # Every older version stored must be readable: one upcaster per step, declared with it.
        if set(upcasters or {}) != set(range(1, version)):
            raise ValueError(
                f"event type {name} version {version} needs an upcaster from each of versions "
                f"{list(range(1, version))}; it has {sorted(upcasters or {})}"
            )
        if personal is not None:
            declared = set(schema().fields)
            unknown = {personal.subject, *personal.fields} - declared
            if unknown:
                raise ValueError(f"event type {name}: personal fields not in its schema: {unknown}")
        event_type = EventType(name, schema, version, dict(upcasters or {}), wire, personal)
        self._types[name] = event_type
        return event_type

    def event(
        self,
        name: str,
        version: int = 1,
        upcasters: dict[int, Upcaster] | None = None,
        wire: Upcaster | None = None,
        personal: Personal | None = None,
    ):
        """Class decorator: `@registry.event("PersonRegistered")` on a marshmallow schema."""

        def decorate(schema: type[ma.Schema]) -> type[ma.Schema]:
            self.register(name, schema, version, upcasters, wire, personal)
            return schema

        return decorate

    def include(self, other: Registry) -> None:
        for event_type in other._types.values():
            if event_type.name not in self._types:
                self._types[event_type.name] = event_type

    def get(self, name: str) -> EventType:
        try:
            return self._types[name]
        except KeyError:
            raise UnknownEventType(name) from None

    def knows(self, name: str) -> bool:
        return name in self._types

    def names(self) -> list[str]:
        return sorted(self._types)

    def has_personal_fields(self) -> bool:
        return any(t.personal is not None for t in self._types.values())

    def on_wire(self, event: Envelope) -> Envelope:
        """The event as published: its type's wire form, if it has one. The hash stays that of
        the stored event (verify against the store)."""
        event_type = self._types.get(event.event_type)
        if event_type is None or event_type.wire is None:
            return event
        return dataclasses.replace(event, payload=event_type.on_wire(event.payload))

    def current(self, event: Envelope) -> Envelope:
        """The event with its payload upcast to the current version (unknown types pass as they are)."""
        event_type = self._types.get(event.event_type)
        if event_type is None or event.schema_version >= event_type.version:
            return event
        payload = event_type.upcast(event.payload, event.schema_version)
        return dataclasses.replace(event, payload=payload, schema_version=event_type.version)
