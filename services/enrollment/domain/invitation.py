"""When a participant is invited (told they are enrolled): the coordinator's choice of now, at a
set time, or only when asked. Notifications sends the invitations accordingly."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.eventkit.aggregate import DomainError
from services.eventkit.contracts.enrollment import INVITATION_MODES


@dataclass(frozen=True)
class Invitation:
    mode: str  # INVITATION_MODES
    invite_at: dt.datetime | None = None  # aware; only for "at"

    def __post_init__(self) -> None:
        if self.mode not in INVITATION_MODES:
            raise DomainError(f"Must be one of: {', '.join(INVITATION_MODES)}.", "mode")
        if self.mode == "at":
            if self.invite_at is None or self.invite_at.tzinfo is None:
                raise DomainError("Give the date and time to invite at.", "invite_at")
        elif self.invite_at is not None:
            object.__setattr__(self, "invite_at", None)  # only "at" has a time

    @property
    def at_iso(self) -> str | None:
        return None if self.invite_at is None else self.invite_at.astimezone(dt.UTC).isoformat()

    def on_enrollment(self) -> dict[str, Any]:
        """The fields ParticipantEnrolled carries."""
        return {"invitation": self.mode, "invite_at": self.at_iso}


def invitation_of(data: dict[str, Any] | None) -> Invitation | None:
    """From an API body's `{"mode", "invite_at"}`; None when not given."""
    if not data:
        return None
    return Invitation(data["mode"], data.get("invite_at"))
