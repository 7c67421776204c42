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
    # Saving an event of these types also stores the aggregate's state (a snapshot), and loads
    # then replay only the events after it: for streams of a few large events (a pairing draft
    # of thousands of pairs per run), which would otherwise be replayed whole on every command.
    # The state must be plain JSON but for sets (see snapshot_state).
    snapshot_after: frozenset[str] = frozenset()
    # Bump it when what a snapshot holds changes meaning: older snapshots are then ignored.
    snapshot_version: int = 1

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
        return cls(aggregate_id).folded(events)

    def folded(self, events: Iterable[Envelope]):
        """This state with the events (the stream's next ones) folded in."""
        for event in events:
            self._fold(event.event_type, event.payload)
            self.version = event.stream_version
        return self

    # --- snapshots -------------------------------------------------------------------------------

    @classmethod
    def snapshot_kind(cls) -> str:
        return f"{cls.__qualname__}/{cls.snapshot_version}"

    def _state(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if k not in ("id", "version", "pending")}

    def snapshot_state(self) -> dict[str, Any]:
        """The state as JSON: every attribute but the bookkeeping, sets as sorted lists."""
        return {k: sorted(v) if isinstance(v, set) else v for k, v in self._state().items()}

    @classmethod
    def restore(cls, aggregate_id: str, state: dict[str, Any], version: int):
        """The aggregate as `snapshot_state` left it at `version`; None if the class's state has
        other attributes now (changed since, without a new snapshot_version): replay instead."""
        aggregate = cls(aggregate_id)
        fresh = aggregate._state()
        if state.keys() != fresh.keys():
            return None
        for name, value in state.items():
            setattr(aggregate, name, set(value) if isinstance(fresh[name], set) else value)
        aggregate.version = version
        return aggregate
