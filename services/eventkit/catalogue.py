"""Every event type the contracts declare (`contracts/*.py`), and the check that a handler names
one of them: a handler for a misspelt type fails when its module loads instead of never running."""

from __future__ import annotations

import difflib
import functools
import importlib
import pkgutil
from collections.abc import Iterable

from . import contracts
from .registry import Registry


class UnknownEventHandler(ValueError):
    """A handler is registered for an event type no contract declares."""


@functools.cache
def contract_registries() -> dict[str, Registry]:
    """Each contract module's registry by module name; a new contract module is found by itself."""
    found = {}
    for module in pkgutil.iter_modules(contracts.__path__):
        loaded = importlib.import_module(f"{contracts.__name__}.{module.name}")
        registry = getattr(loaded, "registry", None)
        if isinstance(registry, Registry):
            found[module.name] = registry
    return found


def declared() -> frozenset[str]:
    return frozenset(name for r in contract_registries().values() for name in r.names())


def check_handled(owner: str, handled: Iterable[str], known: Iterable[str]) -> None:
    """Raise UnknownEventHandler, naming `owner` and the closest known type, for any handled
    type that is not in `known`."""
    known = sorted(known)
    for event_type in handled:
        if event_type not in known:
            raise UnknownEventHandler(
                f"{owner} handles {event_type!r}, which no contract it reads declares"
                + suggestion(event_type, known)
            )


def suggestion(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
