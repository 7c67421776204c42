"""A confidential concern about a pair: raised, acknowledged in time or escalated, resolved; and
the log of every read of its content."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError, NotFound
from services.eventkit.contracts.feedback import CONCERN_ACTIONS, CONCERN_KINDS
from services.eventkit.envelope import format_time, parse_time

from .relationships import Relationship

RAISED, ACKNOWLEDGED, RESOLVED = "raised", "acknowledged", "resolved"


class Concern(Aggregate):
    stream_prefix = "concern"

    def __init__(self, concern_id: str) -> None:
        super().__init__(concern_id)
        self.status: str | None = None
        self.raised_by: str | None = None
        self.parties: list[str] = []
        self.ack_due: dt.datetime | None = None
        self.escalated: str | None = None  # the reason, once escalated

    def raise_(
        self,
        rel: Relationship,
        raised_by: str,
        kind: str,
        text: str,
        now: dt.datetime,
        ack_hours: int,
        coordinators: set[str],
        about_id: str | None = None,
    ) -> None:
        """`coordinators`: people who coordinate the program's institution. If one of them is a
        party to the concern (the other member), it escalates to the consortium admin at once.
        `about_id`: the member of the pair or group it is about (the raiser may name themselves)."""
        if self.exists:
            raise DomainError("This concern exists already.", "concern_id")
        role = rel.role_of(raised_by)
        if role is None:
            raise DomainError("Only a member of the pair can raise a concern about it.", "pair_id")
        if kind not in CONCERN_KINDS:
            raise DomainError(f"Kind is one of: {', '.join(CONCERN_KINDS)}.", "kind")
        text = (text or "").strip()
        if not text:
            raise DomainError("Say what the concern is.", "text")
        if about_id and about_id not in rel.members:
            raise DomainError("Choose someone of that pairing or group.", "about_id")
        parties = sorted(p for p in rel.members if p != raised_by)
        self.record(
            "ConcernRaised", concern_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            raised_by=raised_by, raiser_role=role, kind=kind, text=text, parties=parties,
            ack_due=format_time(now + dt.timedelta(hours=ack_hours)), about_id=about_id or None,
        )  # fmt: skip
        if set(parties) & coordinators:
            self.record("ConcernEscalated", concern_id=self.id, reason="coordinator_party")

    def acknowledge(self, by: str) -> None:
        self._exists()
        if self.status != RAISED:
            raise DomainError(f"The concern is {self.status} already.", "concern_id")
        self.record("ConcernAcknowledged", concern_id=self.id, acknowledged_by=by)

    def resolve(self, by: str, note: str) -> None:
        self._exists()
        note = (note or "").strip()
        if not note:
            raise DomainError("Say how the concern was resolved.", "note")
        if self.status == RAISED:
            raise DomainError("Acknowledge the concern before resolving it.", "concern_id")
        if self.status == RESOLVED:
            raise DomainError("The concern is resolved already.", "concern_id")
        self.record("ConcernResolved", concern_id=self.id, resolved_by=by, note=note)

    def follow_up(self, by: str, action: str, note: str) -> None:
        """What a handler did following the concern (the pair ended, a rematch, a note to file),
        on its timeline; the concern stays open until resolved."""
        self._exists()
        if action not in CONCERN_ACTIONS:
            raise DomainError(f"Action is one of: {', '.join(CONCERN_ACTIONS)}.", "action")
        note = (note or "").strip()
        if action == "note" and not note:
            raise DomainError("Write the note to file.", "note")
        if self.status == RESOLVED:
            raise DomainError("The concern is resolved already.", "concern_id")
        self.record("ConcernFollowedUp", concern_id=self.id, action=action, note=note, by=by)

    def escalate_if_overdue(self, now: dt.datetime) -> bool:
        """Not acknowledged in time: escalate to the consortium admin (once)."""
        self._exists()
        if self.status != RAISED or self.escalated or self.ack_due is None or now < self.ack_due:
            return False
        self.record("ConcernEscalated", concern_id=self.id, reason="not_acknowledged")
        return True

    def _exists(self) -> None:
        if not self.exists:
            raise NotFound("No such concern.")

    def when_concern_raised(self, p: dict[str, Any]) -> None:
        self.status, self.raised_by, self.parties = RAISED, p["raised_by"], list(p["parties"])
        self.ack_due = parse_time(p["ack_due"])

    def when_concern_acknowledged(self, p: dict[str, Any]) -> None:
        self.status = ACKNOWLEDGED

    def when_concern_escalated(self, p: dict[str, Any]) -> None:
        self.escalated = p["reason"]

    def when_concern_resolved(self, p: dict[str, Any]) -> None:
        self.status = RESOLVED


class ConcernAccessLog(Aggregate):
    """Every read of a concern's confidential content, as its own hash-chained stream (so reads
    never conflict with the concern's own changes)."""

    stream_prefix = "concern-access"

    def viewed(self, viewer_id: str, viewer_role: str) -> None:
        self.record(
            "ConfidentialRecordViewed",
            concern_id=self.id, viewer_id=viewer_id, viewer_role=viewer_role,
        )  # fmt: skip
