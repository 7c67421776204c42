"""A person's own commands: marking a notification read, choosing channels."""

from __future__ import annotations

from services.eventkit import Metadata

from ..domain.notification import Notification
from ..domain.preferences import Preferences
from .unit_of_work import UnitOfWork


def mark_read(uow: UnitOfWork, person_id: str, notification_id: str, meta: Metadata) -> None:
    notification = uow.load(Notification, notification_id)
    notification.mark_read(person_id)
    uow.save(notification, meta, check_version=False)


def choose_channels(
    uow: UnitOfWork, person_id: str, wanted: dict[str, str], meta: Metadata
) -> dict[str, str]:
    """Record the kinds whose channel changes; return how each kind reaches the person now."""
    preferences = uow.load(Preferences, person_id)
    preferences.choose(wanted)
    uow.save(preferences, meta, check_version=False)
    return preferences.channels()
