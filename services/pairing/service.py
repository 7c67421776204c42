"""The pairing service as the kit runs it."""

from __future__ import annotations

from pathlib import Path

from services.eventkit import Service
from services.eventkit.contracts import enrollment, pairing

from . import readmodels as rm
from .api import blueprints
from .deadlines import request_deadlines

SERVICE = Service(
    name="pairing",
    title="Tandem pairing",
    metadata=rm.metadata,
    tables=rm.kit,
    registry=pairing.registry,
    projections=[rm.pairing_view],
    consumers=[rm.pool],
    contracts=[enrollment.registry],
    blueprints=blueprints,
    migrations=Path(__file__).parent / "migrations",
    stats_tables=[rm.people, rm.cycles, rm.candidates, rm.pairs],
    background=[request_deadlines],
)
