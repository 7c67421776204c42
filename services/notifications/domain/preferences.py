"""A person's choice of channel per kind of notification."""

from __future__ import annotations

from typing import Any

from services.eventkit.aggregate import Aggregate
from services.eventkit.contracts.notifications import CHANNELS

from . import messages
from .notification import EMAIL, channel_for


def refusal(kind: str, channel: str) -> str | None:
    """Why a person may not choose `channel` for `kind`, or None if they may."""
    if kind not in messages.KINDS:
        return f"Unknown notification kind; one of {', '.join(messages.KINDS)}."
    if channel not in CHANNELS:
        return f"Must be one of {', '.join(CHANNELS)}."
    if kind in messages.MANDATORY and channel != EMAIL:
        return "This notice is mandatory: it is always sent by email."
    return None


class Preferences(Aggregate):
    stream_prefix = "preferences"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.chosen: dict[str, str] = {}

    @property
    def person_id(self) -> str:
        return self.id

    def channels(self) -> dict[str, str]:
        """How each kind reaches the person now."""
        return {kind: channel_for(kind, self.chosen.get(kind)) for kind in messages.KINDS}

    def choose(self, wanted: dict[str, str]) -> None:
        """Records only the kinds whose channel changes (callers check `refusal` first)."""
        current = self.channels()
        changed = {
            kind: channel for kind, channel in wanted.items() if current.get(kind) != channel
        }
        if changed:
            self.record("NotificationPreferencesSet", person_id=self.id, preferences=changed)

    def when_notification_preferences_set(self, p: dict[str, Any]) -> None:
        self.chosen.update(p["preferences"])
