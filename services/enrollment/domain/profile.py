"""A participant's matching profile: interests, languages, availability, goals, meeting mode,
consented self-identification and, for mentors, capacity."""

from __future__ import annotations

from typing import Any

from services.eventkit.aggregate import DomainError
from services.eventkit.contracts.enrollment import MEETING_MODES

from .fields import clean_list

# Half-day slots a participant can usually meet in, e.g. "mon-am", "thu-eve".
AVAILABILITY_SLOTS = tuple(
    f"{day}-{part}"
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for part in ("am", "pm", "eve")
)
IDENTITY_KEYS = ("urim", "gender", "first_generation")
MAX_CAPACITY = 20

PROFILE_FIELDS = (
    "interests", "capacity", "goals", "languages", "meeting_mode", "availability", "identity",
)  # fmt: skip


def clean_profile(role: str, profile: dict[str, Any]) -> dict[str, Any]:
    """Validate the matching-profile fields given (others are left out)."""
    out: dict[str, Any] = {}
    if "interests" in profile:
        out["interests"] = clean_list(profile["interests"] or [], "interests", 20, 100)
    if "languages" in profile:
        out["languages"] = clean_list(profile["languages"] or [], "languages", 10, 50)
    if "availability" in profile:
        slots = clean_list(profile["availability"] or [], "availability", 21, 20)
        unknown = [s for s in slots if s not in AVAILABILITY_SLOTS]
        if unknown:
            raise DomainError(
                f"Unknown slots {', '.join(unknown)}; use day-part like mon-am or thu-eve.",
                "availability",
            )
        out["availability"] = slots
    if "goals" in profile:
        goals = (profile["goals"] or "").strip()
        if len(goals) > 2000:
            raise DomainError("At most 2000 characters.", "goals")
        out["goals"] = goals
    if "meeting_mode" in profile:
        if profile["meeting_mode"] not in MEETING_MODES:
            raise DomainError(f"Must be one of: {', '.join(MEETING_MODES)}.", "meeting_mode")
        out["meeting_mode"] = profile["meeting_mode"]
    if "identity" in profile:
        out["identity"] = _identity(profile["identity"])
    if "capacity" in profile:
        capacity = profile["capacity"]
        if role == "mentor":
            if capacity is None or not 1 <= capacity <= MAX_CAPACITY:
                raise DomainError(
                    f"A mentor's capacity must be from 1 to {MAX_CAPACITY}.", "capacity"
                )
        elif capacity is not None:
            raise DomainError("Only mentors have a capacity.", "capacity")
        out["capacity"] = capacity
    return out


def _identity(identity: dict[str, Any] | None) -> dict[str, str] | None:
    """Self-identification is kept only with consent: `None` means none given, or consent withdrawn."""
    if not identity:
        return None
    if identity.get("consent") is not True:
        raise DomainError(
            "Self-identification is used for matching only with explicit consent.", "identity"
        )
    unknown = set(identity) - {*IDENTITY_KEYS, "consent"}
    if unknown:
        raise DomainError(f"Unknown keys: {', '.join(sorted(unknown))}.", "identity")
    return {k: str(identity[k]).strip()[:50] for k in IDENTITY_KEYS if identity.get(k)}
