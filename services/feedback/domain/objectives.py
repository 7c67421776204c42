"""An objective of a mentee's action plan, and its status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError, NotFound
from services.eventkit.contracts.feedback import OBJECTIVE_AREAS, OBJECTIVE_STATUSES

from .relationships import Relationship


class Objective(Aggregate):
    stream_prefix = "objective"

    def __init__(self, objective_id: str) -> None:
        super().__init__(objective_id)
        self.pair_id: str | None = None
        self.mentee_id: str | None = None
        self.status: str | None = None

    def set(
        self,
        rel: Relationship,
        mentee_id: str,
        area: str,
        title: str,
        by: str,
        description: str = "",
        due_date: dt.date | None = None,
    ) -> None:
        if self.exists:
            raise DomainError("This objective exists already.", "objective_id")
        if rel.role_of(by) is None:
            raise DomainError("Only a member can set an objective.", "pair_id")
        if not rel.active:
            raise DomainError("This pair has ended.", "pair_id")
        if rel.role_of(mentee_id) != "mentee":
            raise DomainError("Objectives belong to a mentee of this pair.", "mentee_id")
        if by != mentee_id and rel.role_of(by) != "mentor":
            raise DomainError("A mentee sets only their own objectives.", "mentee_id")
        if area not in OBJECTIVE_AREAS:
            raise DomainError(f"Area is one of: {', '.join(OBJECTIVE_AREAS)}.", "area")
        title = (title or "").strip()
        if not title:
            raise DomainError("Give the objective a title.", "title")
        self.record(
            "ObjectiveSet", objective_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            mentee_id=mentee_id, area=area, title=title, description=(description or "").strip(),
            due_date=due_date.isoformat() if due_date else None, set_by=by,
        )  # fmt: skip

    def update(self, rel: Relationship, status: str, by: str, note: str = "") -> None:
        if not self.exists:
            raise NotFound("No such objective.")
        if by != self.mentee_id and rel.role_of(by) != "mentor":
            raise DomainError("Only the mentee or their mentor can update it.", "objective_id")
        if status not in OBJECTIVE_STATUSES:
            raise DomainError(f"Status is one of: {', '.join(OBJECTIVE_STATUSES)}.", "status")
        if status == self.status:
            raise DomainError(f"The objective is {status.replace('_', ' ')} already.", "status")
        self.record(
            "ObjectiveUpdated", objective_id=self.id, pair_id=rel.id, mentee_id=self.mentee_id,
            status=status, note=(note or "").strip(), updated_by=by,
        )  # fmt: skip

    def when_objective_set(self, p: dict[str, Any]) -> None:
        self.pair_id, self.mentee_id, self.status = p["pair_id"], p["mentee_id"], "open"

    def when_objective_updated(self, p: dict[str, Any]) -> None:
        self.status = p["status"]
