"""The feedback service as the kit runs it."""

from __future__ import annotations

from pathlib import Path

from services.eventkit import Service
from services.eventkit.contracts import enrollment, feedback, pairing

from . import readmodels as rm
from .api import blueprints
from .worker import concern_deadlines, survey_issuer

SERVICE = Service(
    name="feedback",
    title="Tandem feedback",
    metadata=rm.metadata,
    tables=rm.kit,
    registry=feedback.registry,
    projections=[rm.feedback_view, rm.survey_view],
    consumers=[rm.roster],
    contracts=[enrollment.registry, pairing.registry],
    blueprints=blueprints,
    migrations=Path(__file__).parent / "migrations",
    stats_tables=[
        rm.participants,
        rm.pairs,
        rm.meetings,
        rm.objectives,
        rm.concerns,
        rm.survey_instances,
    ],
    background=[concern_deadlines, survey_issuer],
)
