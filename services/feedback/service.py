"""The feedback service as the kit runs it."""

from __future__ import annotations

from pathlib import Path

from services.eventkit import Service
from services.eventkit.contracts import enrollment, feedback

from . import readmodels as rm

SERVICE = Service(
    name="feedback",
    title="Tandem feedback",
    metadata=rm.metadata,
    tables=rm.kit,
    registry=feedback.registry,
    consumers=[rm.roster],
    contracts=[enrollment.registry],
    migrations=Path(__file__).parent / "migrations",
    stats_tables=[rm.participants],
)
