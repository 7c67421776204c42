"""A meeting of a pair or group: logged by one member, confirmed by another."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError, NotFound
from services.eventkit.contracts.feedback import MEETING_MODES

from .relationships import Relationship, clean_texts

MAX_DAYS_AHEAD = 1  # a meeting may be logged at most this many days ahead (time zones)


class Meeting(Aggregate):
    stream_prefix = "meeting"

    def __init__(self, meeting_id: str) -> None:
        super().__init__(meeting_id)
        self.pair_id: str | None = None
        self.cycle_id: str | None = None
        self.logged_by: str | None = None
        self.confirmed_by: str | None = None

    def log(
        self,
        rel: Relationship,
        logged_by: str,
        date: dt.date,
        today: dt.date,
        duration_minutes: int,
        mode: str,
        topics: Sequence[str] = (),
        notes: str = "",
        objectives: Sequence[str] = (),
        action_items: Sequence[str] = (),
        attendees: Sequence[str] = (),
        objective_ids: Sequence[str] = (),
        known_objectives: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        """`objective_ids`: the recorded objectives discussed, among `known_objectives` (the
        relationship's)."""
        if self.exists:
            raise DomainError("This meeting is logged already.", "meeting_id")
        if rel.role_of(logged_by) is None:
            raise DomainError("Only a member can log a meeting.", "pair_id")
        if not rel.active:
            raise DomainError("This pair has ended; meetings can no longer be logged.", "pair_id")
        if date > today + dt.timedelta(days=MAX_DAYS_AHEAD):
            raise DomainError("A meeting cannot be dated in the future.", "date")
        if date < rel.started_on:
            raise DomainError(
                f"The meeting is dated before the pair existed ({rel.started_on.isoformat()}).",
                "date",
            )
        if not 5 <= duration_minutes <= 600:
            raise DomainError("A meeting lasts 5 to 600 minutes.", "duration_minutes")
        if mode not in MEETING_MODES:
            raise DomainError(f"Mode is one of: {', '.join(MEETING_MODES)}.", "mode")
        strangers = sorted(set(attendees) - set(rel.members))
        if strangers:
            raise DomainError("Only members can be recorded as attending.", "attendees")
        if set(objective_ids) - set(known_objectives):
            raise DomainError("Link only this pairing's objectives.", "objective_ids")
        self.record(
            "MeetingLogged", meeting_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            logged_by=logged_by, date=date.isoformat(), duration_minutes=duration_minutes,
            mode=mode, topics=clean_texts(topics), notes=(notes or "").strip(),
            objectives=clean_texts(objectives), action_items=clean_texts(action_items),
            attendees=sorted(set(attendees)), objective_ids=list(dict.fromkeys(objective_ids)),
        )  # fmt: skip

    def confirm(self, rel: Relationship, by: str) -> None:
        if not self.exists:
            raise NotFound("No such meeting.")
        if rel.role_of(by) is None:
            raise DomainError("Only a member can confirm a meeting.", "meeting_id")
        if by == self.logged_by:
            raise DomainError(
                "The other member confirms a meeting, not who logged it.", "meeting_id"
            )
        if self.confirmed_by is not None:
            raise DomainError("This meeting is confirmed already.", "meeting_id")
        self.record(
            "MeetingConfirmed", meeting_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            confirmed_by=by,
        )  # fmt: skip

    def when_meeting_logged(self, p: dict[str, Any]) -> None:
        self.pair_id, self.cycle_id, self.logged_by = p["pair_id"], p["cycle_id"], p["logged_by"]

    def when_meeting_confirmed(self, p: dict[str, Any]) -> None:
        self.confirmed_by = p["confirmed_by"]
