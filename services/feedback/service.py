"""The feedback service as the kit runs it."""

from __future__ import annotations

from pathlib import Path

from services.eventkit import Service
from services.eventkit.contracts import enrollment, feedback, pairing

from .api import blueprints
from .readmodels import feedback_view, kit, metadata, survey_view
from .readmodels.concerns import concerns
from .readmodels.meeting_requests import meeting_requests, meeting_requests_view
from .readmodels.meetings import meetings
from .readmodels.objectives import objectives
from .readmodels.roster import pairs, participants, roster
from .readmodels.surveys import survey_instances
from .worker import concern_deadlines, survey_issuer

SERVICE = Service(
    name="feedback",
    title="Tandem feedback",
    metadata=metadata,
    tables=kit,
    registry=feedback.registry,
    projections=[feedback_view, survey_view, meeting_requests_view],
    consumers=[roster],
    contracts=[enrollment.registry, pairing.registry],
    blueprints=blueprints,
    migrations=Path(__file__).parent / "migrations",
    stats_tables=[
        participants,
        pairs,
        meetings,
        meeting_requests,
        objectives,
        concerns,
        survey_instances,
    ],
    background=[concern_deadlines, survey_issuer],
)
