"""Enrollment's read models: the directory tables (re-exported here for the API, the use cases and
tests) with their inline projection (`directory`), what the use cases look up (`lookups`), and
the consortium audit trail of every service's events (`trail`)."""

from . import trail
from .tables import (
    conflicts,
    cycles,
    enrollments,
    institutions,
    kit,
    metadata,
    people,
    programs,
    staff_roles,
)

__all__ = [
    "conflicts",
    "cycles",
    "enrollments",
    "institutions",
    "kit",
    "metadata",
    "people",
    "programs",
    "staff_roles",
    "trail",
]
