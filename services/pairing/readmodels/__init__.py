"""Pairing's read models: the tables (re-exported here for the API, the workers and tests), the
candidate pool projected from enrollment's events (`candidate_pool`), the projection of pairing's
own events (`pairing_events`) and what the API serves from them (`views`)."""

from .candidate_pool import pool
from .pairing_events import pairing_view
from .tables import (
    candidates,
    conflicts,
    cycles,
    kit,
    metadata,
    pairs,
    people,
    proposals,
    requests,
    units,
)

__all__ = [
    "candidates",
    "conflicts",
    "cycles",
    "kit",
    "metadata",
    "pairing_view",
    "pairs",
    "people",
    "pool",
    "proposals",
    "requests",
    "units",
]
