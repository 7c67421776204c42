"""The event kit every Tandem service is built on.

Envelope, registry and hash chain are pure; store, outbox relay, consumer and projections sit on
SQLAlchemy; the bus module is the only place that knows the Kafka client.
"""

from .aggregate import Aggregate, DomainError, NotFound
from .envelope import Envelope, Metadata, NewEvent
from .projections import Projection
from .registry import Registry
from .service import Runtime, Service
from .store import ConcurrencyError, EventStore
from .tables import define_kit_tables

__all__ = [
    "Aggregate",
    "ConcurrencyError",
    "DomainError",
    "Envelope",
    "EventStore",
    "Metadata",
    "NewEvent",
    "NotFound",
    "Projection",
    "Registry",
    "Runtime",
    "Service",
    "define_kit_tables",
]
