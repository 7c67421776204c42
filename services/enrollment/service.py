"""The enrollment service as the kit runs it."""

from __future__ import annotations

from pathlib import Path

from services.eventkit import Service
from services.eventkit.contracts import feedback, notifications, pairing
from services.eventkit.contracts.enrollment import registry

from . import readmodels as rm
from .api import blueprints
from .readmodels.directory import directory
from .readmodels.trail import trail

SERVICE = Service(
    name="enrollment",
    title="Tandem enrollment",
    metadata=rm.metadata,
    tables=rm.kit,
    registry=registry,
    projections=[directory],
    # The consortium audit trail follows every service's topic, this one's included.
    consumers=[trail],
    contracts=[pairing.registry, feedback.registry, notifications.registry],
    blueprints=blueprints,
    migrations=Path(__file__).parent / "migrations",
    stats_tables=[rm.institutions, rm.programs, rm.cycles, rm.people, rm.enrollments],
)
