"""Aggregates: state folded from events, commands that record new events. Pure Python."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .catalogue import UnknownEventHandler, declared, suggestion
from .envelope import Envelope, NewEvent


class DomainError(Exception):
    """A command broke a business rule. `field` names the input at fault, when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    pass


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Aggregate:
    """Subclasses define `when_<snake_event_type>(payload)` to fold each event into state."""

    stream_prefix: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A misspelt `when_` would never be called: refuse it when the class is defined.
        folds = {f"when_{_snake(event_type)}" for event_type in declared()}
        for name in vars(cls):
            if name.startswith("when_") and name not in folds:
                raise UnknownEventHandler(
                    f"{cls.__qualname__}.{name} folds an event type no contract declares"
                    + suggestion(name, folds)
                )

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0  # the stored version this state was loaded at
        self.pending: list[NewEvent] = []

    @classmethod
    def stream_id_for(cls, aggregate_id: str) -> str:
        return f"{cls.stream_prefix}-{aggregate_id}"

    @property
    def stream_id(self) -> str:
        return self.stream_id_for(self.id)

    @property
    def exists(self) -> bool:
        return self.version > 0 or bool(self.pending)

    def record(self, event_type: str, **payload: Any) -> None:
        self._fold(event_type, payload)
        self.pending.append(NewEvent(event_type, payload))

    def _fold(self, event_type: str, payload: dict[str, Any]) -> None:
        handler = getattr(self, f"when_{_snake(event_type)}", None)
        if handler is not None:
            handler(payload)

    @classmethod
    def rehydrate(cls, aggregate_id: str, events: Iterable[Envelope]):
        aggregate = cls(aggregate_id)
        for event in events:
            aggregate._fold(event.event_type, event.payload)
            aggregate.version = event.stream_version
        return aggregate
