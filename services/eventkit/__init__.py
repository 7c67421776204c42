"""The event kit every Tandem service is built on.

Envelope, registry, aggregate and hash chain are pure; store, outbox relay, consumer and
projections sit on SQLAlchemy; the bus module is the only place that knows the Kafka client.
Names are imported lazily so domain code that uses the pure parts loads no database or broker code.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Aggregate": "aggregate",
    "DomainError": "aggregate",
    "NotFound": "aggregate",
    "Envelope": "envelope",
    "Metadata": "envelope",
    "NewEvent": "envelope",
    "Registry": "registry",
    "Projection": "projections",
    "Runtime": "service",
    "Service": "service",
    "ConcurrencyError": "store",
    "EventStore": "store",
    "define_kit_tables": "tables",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
