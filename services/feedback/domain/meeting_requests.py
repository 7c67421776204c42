"""A meeting on request: a member proposes one to three times to the other member(s), the other
side accepts one (the meeting is then scheduled) or declines with a note; a scheduled meeting is
rescheduled or cancelled. In a coaching group the coach proposes and sets the time; members see
it. Times are aware datetimes, kept in UTC; `time_zone` is the institution's, for calendars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError, NotFound
from services.eventkit.contracts.meeting_requests import MAX_OPTIONS, REQUEST_MODES
from services.eventkit.envelope import format_time, parse_time

from .relationships import Relationship

PENDING, SCHEDULED, DECLINED, CANCELLED = "pending", "scheduled", "declined", "cancelled"


def _future(when: dt.datetime, now: dt.datetime, field: str) -> dt.datetime:
    if when.tzinfo is None:
        raise DomainError("A time needs its time zone.", field)
    if when <= now:
        raise DomainError("Choose a time in the future.", field)
    return when.astimezone(dt.UTC)


def _coach_only(rel: Relationship, by: str, what: str) -> None:
    """Who may act on a request beyond answering it: any member of a pair; the coach of a
    group."""
    role = rel.role_of(by)
    if role is None:
        raise DomainError(f"Only a member can {what} a meeting.", "pair_id")
    if rel.kind != "pair" and role != "mentor":
        raise DomainError(f"In a group, the coach {what}s meetings.", "pair_id")


class MeetingRequest(Aggregate):
    stream_prefix = "meeting-request"

    def __init__(self, request_id: str) -> None:
        super().__init__(request_id)
        self.pair_id = ""
        self.cycle_id = ""
        self.requested_by = ""
        self.attendees: list[str] = []
        self.options: list[str] = []
        self.duration_minutes = 0
        self.mode = ""
        self.place = ""
        self.note = ""
        self.time_zone = "UTC"
        self.status = ""
        self.starts_at: str | None = None
        self.sequence = -1  # the calendar's SEQUENCE: 0 once scheduled, +1 on every change

    # --- commands ---------------------------------------------------------------------------------

    def propose(
        self,
        rel: Relationship,
        by: str,
        options: Sequence[dt.datetime],
        now: dt.datetime,
        duration_minutes: int,
        mode: str,
        time_zone: str,
        place: str = "",
        note: str = "",
    ) -> None:
        if self.exists:
            raise DomainError("This request is made already.", "request_id")
        _coach_only(rel, by, "propose")
        if not rel.active:
            raise DomainError(
                "This pair has ended; meetings can no longer be requested.", "pair_id"
            )
        if not 1 <= len(options) <= MAX_OPTIONS:
            raise DomainError(f"Offer 1 to {MAX_OPTIONS} times.", "options")
        times = sorted({_future(t, now, "options") for t in options})
        if len(times) != len(options):
            raise DomainError("Offer different times.", "options")
        if not 5 <= duration_minutes <= 600:
            raise DomainError("A meeting lasts 5 to 600 minutes.", "duration_minutes")
        if mode not in REQUEST_MODES:
            raise DomainError(f"Mode is one of: {', '.join(REQUEST_MODES)}.", "mode")
        self.record(
            "MeetingRequested", request_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            requested_by=by, attendees=sorted(rel.members), options=[format_time(t) for t in times],
            duration_minutes=duration_minutes, mode=mode, place=(place or "").strip(),
            note=(note or "").strip(), time_zone=time_zone,
        )  # fmt: skip

    def accept(self, rel: Relationship, by: str, starts_at: dt.datetime, now: dt.datetime) -> None:
        self._answerable(rel, by)
        chosen = _future(starts_at, now, "starts_at")
        if format_time(chosen) not in self.options:
            raise DomainError("Accept one of the times offered.", "starts_at")
        self.record("MeetingRequestAccepted", accepted_by=by, **self._calendar(chosen, 0))

    def decline(self, rel: Relationship, by: str, note: str = "") -> None:
        self._answerable(rel, by)
        self.record(
            "MeetingRequestDeclined", request_id=self.id, pair_id=self.pair_id,
            cycle_id=self.cycle_id, requested_by=self.requested_by, declined_by=by, note=(note or "").strip(),
        )  # fmt: skip

    def reschedule(
        self, rel: Relationship, by: str, starts_at: dt.datetime, now: dt.datetime
    ) -> None:
        self._found()
        _coach_only(rel, by, "reschedule")
        if self.status != SCHEDULED:
            raise DomainError("Only a scheduled meeting can be rescheduled.", "request_id")
        chosen = _future(starts_at, now, "starts_at")
        if format_time(chosen) == self.starts_at:
            raise DomainError("Choose a different time.", "starts_at")
        self.record(
            "MeetingRescheduled", rescheduled_by=by, **self._calendar(chosen, self.sequence + 1)
        )

    def cancel(self, rel: Relationship, by: str) -> None:
        self._found()
        if self.status == PENDING:
            if by != self.requested_by:
                raise DomainError("Only who asked can withdraw a request.", "request_id")
            start, sequence = parse_time(self.options[0]), 0
        elif self.status == SCHEDULED:
            _coach_only(rel, by, "cancel")
            start, sequence = parse_time(self.starts_at or ""), self.sequence + 1
        else:
            raise DomainError(f"This request is {self.status} already.", "request_id")
        self.record(
            "MeetingRequestCancelled", cancelled_by=by, was_scheduled=self.status == SCHEDULED,
            **self._calendar(start, sequence),
        )  # fmt: skip

    # --- rules --------------------------------------------------------------------------------

    def _found(self) -> None:
        if not self.exists:
            raise NotFound("No such meeting request.")

    def _answerable(self, rel: Relationship, by: str) -> None:
        """A pair's request is answered by the other member; a group's times are set by its
        coach. A request is answered once."""
        self._found()
        role = rel.role_of(by)
        if role is None:
            raise DomainError("Only a member can answer a meeting request.", "request_id")
        if rel.kind == "pair" and by == self.requested_by:
            raise DomainError("The other member answers a request, not who made it.", "request_id")
        if rel.kind != "pair" and role != "mentor":
            raise DomainError("In a group, the coach sets the time.", "request_id")
        if self.status != PENDING:
            raise DomainError(f"This request is {self.status} already.", "request_id")

    def _calendar(self, start: dt.datetime, sequence: int) -> dict[str, Any]:
        end = start + dt.timedelta(minutes=self.duration_minutes)
        return {
            "request_id": self.id, "pair_id": self.pair_id, "cycle_id": self.cycle_id,
            "organizer": self.requested_by, "attendees": self.attendees,
            "starts_at": format_time(start), "ends_at": format_time(end), "mode": self.mode,
            "place": self.place, "note": self.note, "time_zone": self.time_zone,
            "sequence": sequence,
        }  # fmt: skip

    # --- state --------------------------------------------------------------------------------

    def when_meeting_requested(self, p: dict[str, Any]) -> None:
        self.pair_id, self.cycle_id, self.requested_by = (
            p["pair_id"],
            p["cycle_id"],
            p["requested_by"],
        )
        self.attendees, self.options = list(p["attendees"]), list(p["options"])
        self.duration_minutes, self.mode = p["duration_minutes"], p["mode"]
        self.place, self.note, self.time_zone = p["place"], p["note"], p["time_zone"]
        self.status = PENDING

    def when_meeting_request_accepted(self, p: dict[str, Any]) -> None:
        self.status, self.starts_at, self.sequence = SCHEDULED, p["starts_at"], p["sequence"]

    def when_meeting_rescheduled(self, p: dict[str, Any]) -> None:
        self.starts_at, self.sequence = p["starts_at"], p["sequence"]

    def when_meeting_request_declined(self, p: dict[str, Any]) -> None:
        self.status = DECLINED

    def when_meeting_request_cancelled(self, p: dict[str, Any]) -> None:
        self.status, self.sequence = CANCELLED, p["sequence"]
