"""The notifications service as the kit runs it."""

from __future__ import annotations

from pathlib import Path

from services.eventkit import Service
from services.eventkit.contracts import enrollment, feedback, notifications, pairing

from . import readmodels as rm
from .delivery import sender
from .timers import timers


def _blueprints():
    from .api import blp

    return [blp]


SERVICE = Service(
    name="notifications",
    title="Tandem notifications",
    metadata=rm.metadata,
    tables=rm.kit,
    registry=notifications.registry,
    projections=[rm.in_app, rm.settings, rm.mail],
    consumers=[rm.reactions],
    contracts=[enrollment.registry, pairing.registry, feedback.registry],
    blueprints=_blueprints,
    migrations=Path(__file__).parent / "migrations",
    stats_tables=[rm.recipients, rm.notifications, rm.deliveries, rm.local_mail],
    background=[sender, timers],
)
