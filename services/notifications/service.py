"""The notifications service as the kit runs it."""

from __future__ import annotations

from pathlib import Path

from services.eventkit import EventStore, Service
from services.eventkit.contracts import enrollment, feedback, notifications, pairing

from .api import blueprints
from .app.reactions import reactions
from .delivery import sender
from .inviting import inviter
from .readmodels import inbox, mail
from .readmodels.tables import deliveries, kit, local_mail, metadata, recipients
from .readmodels.tables import notifications as inbox_table
from .timers import timers


def _event_store() -> EventStore:
    """The store the consumer's reactions append notices to: the service's own."""
    return SERVICE.event_store()


SERVICE = Service(
    name="notifications",
    title="Tandem notifications",
    metadata=metadata,
    tables=kit,
    registry=notifications.registry,
    projections=[inbox.in_app, inbox.settings, mail.mail],
    consumers=[reactions(_event_store)],
    contracts=[enrollment.registry, pairing.registry, feedback.registry],
    blueprints=blueprints,
    migrations=Path(__file__).parent / "migrations",
    stats_tables=[recipients, inbox_table, deliveries, local_mail],
    background=[sender, timers, inviter],
)
