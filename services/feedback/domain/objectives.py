"""An objective of a mentee's action plan: its statement, its steps, its status, and the mentor's
comments and agreement.

The mentee plans their own objectives; their mentor or coach plans them with them; a coordinator
of the program may act on their behalf (`staff`: the policy let the caller through as one).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError, NotFound
from services.eventkit.contracts.feedback import OBJECTIVE_AREAS, OBJECTIVE_STATUSES, STEP_STATUSES

from .relationships import Relationship

MAX_STEPS = 20


def _statement(area: str, title: str) -> str:
    if area not in OBJECTIVE_AREAS:
        raise DomainError(f"Area is one of: {', '.join(OBJECTIVE_AREAS)}.", "area")
    title = (title or "").strip()
    if not title:
        raise DomainError("Say what you will achieve, in a way you can measure.", "title")
    return title


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class Objective(Aggregate):
    stream_prefix = "objective"

    def __init__(self, objective_id: str) -> None:
        super().__init__(objective_id)
        self.pair_id: str | None = None
        self.mentee_id: str | None = None
        self.status: str | None = None
        self.agreed = False
        self.steps: dict[str, str] = {}  # step id -> status

    def set(
        self,
        rel: Relationship,
        mentee_id: str,
        area: str,
        title: str,
        by: str,
        description: str = "",
        due_date: dt.date | None = None,
        staff: bool = False,
    ) -> None:
        if self.exists:
            raise DomainError("This objective exists already.", "objective_id")
        if not staff and rel.role_of(by) is None:
            raise DomainError("Only a member can set an objective.", "pair_id")
        if not rel.active:
            raise DomainError("This pair has ended.", "pair_id")
        if rel.role_of(mentee_id) != "mentee":
            raise DomainError("Objectives belong to a mentee of this pair.", "mentee_id")
        if not staff and by != mentee_id and rel.role_of(by) != "mentor":
            raise DomainError("A mentee sets only their own objectives.", "mentee_id")
        title = _statement(area, title)
        self.record(
            "ObjectiveSet", objective_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            mentee_id=mentee_id, area=area, title=title, description=(description or "").strip(),
            due_date=_iso(due_date), set_by=by,
        )  # fmt: skip

    def _may_plan(self, rel: Relationship, by: str, staff: bool) -> None:
        """The mentee, their mentor or coach in the current relationship, or staff."""
        if not self.exists:
            raise NotFound("No such objective.")
        if staff:
            return
        if by != self.mentee_id and rel.role_of(by) != "mentor":
            raise DomainError("Only the mentee or their mentor can change it.", "objective_id")
        if not rel.active:
            raise DomainError("This pair has ended.", "objective_id")

    def _about(self) -> dict[str, Any]:
        return {"objective_id": self.id, "pair_id": self.pair_id, "mentee_id": self.mentee_id}

    def update(
        self, rel: Relationship, status: str, by: str, note: str = "", staff: bool = False
    ) -> None:
        if not self.exists:
            raise NotFound("No such objective.")
        if not staff and by != self.mentee_id and rel.role_of(by) != "mentor":
            raise DomainError("Only the mentee or their mentor can update it.", "objective_id")
        if status not in OBJECTIVE_STATUSES:
            raise DomainError(f"Status is one of: {', '.join(OBJECTIVE_STATUSES)}.", "status")
        if status == self.status:
            raise DomainError(f"The objective is {status.replace('_', ' ')} already.", "status")
        self.record(
            "ObjectiveUpdated", **self._about(), status=status, note=(note or "").strip(),
            updated_by=by,
        )  # fmt: skip

    def edit(
        self,
        rel: Relationship,
        by: str,
        area: str,
        title: str,
        description: str = "",
        due_date: dt.date | None = None,
        staff: bool = False,
    ) -> None:
        self._may_plan(rel, by, staff)
        title = _statement(area, title)
        self.record(
            "ObjectiveEdited", **self._about(), area=area, title=title,
            description=(description or "").strip(), due_date=_iso(due_date), edited_by=by,
        )  # fmt: skip

    def move(self, rel: Relationship, by: str, position: int, staff: bool = False) -> None:
        self._may_plan(rel, by, staff)
        self.record("ObjectiveMoved", **self._about(), position=position, moved_by=by)

    def plan_step(
        self,
        rel: Relationship,
        by: str,
        step_id: str,
        text: str,
        due_date: dt.date | None = None,
        status: str = "not_started",
        staff: bool = False,
    ) -> None:
        """Add the step `step_id`, or change its text, due date or status."""
        self._may_plan(rel, by, staff)
        text = (text or "").strip()
        if not text:
            raise DomainError("Say what the step is.", "text")
        if status not in STEP_STATUSES:
            raise DomainError(f"Status is one of: {', '.join(STEP_STATUSES)}.", "status")
        if step_id not in self.steps and len(self.steps) >= MAX_STEPS:
            raise DomainError(f"An action plan has at most {MAX_STEPS} steps.", "text")
        self.record(
            "ActionStepPlanned", **self._about(), step_id=step_id, text=text,
            due_date=_iso(due_date), status=status, planned_by=by,
        )  # fmt: skip

    def comment(self, rel: Relationship, by: str, text: str, staff: bool = False) -> None:
        self._may_plan(rel, by, staff)
        text = (text or "").strip()
        if not text:
            raise DomainError("Write a comment.", "text")
        self.record("ObjectiveCommented", **self._about(), text=text, commented_by=by)

    def agree(self, rel: Relationship, by: str) -> None:
        """The mentor or coach agrees the objective as it stands (again after an edit)."""
        if not self.exists:
            raise NotFound("No such objective.")
        if rel.role_of(by) != "mentor":
            raise DomainError("The mentor or coach agrees an objective.", "objective_id")
        if not rel.active:
            raise DomainError("This pair has ended.", "objective_id")
        if self.agreed:
            raise DomainError("This objective is agreed already.", "objective_id")
        self.record("ObjectiveAgreed", **self._about(), agreed_by=by)

    def when_objective_set(self, p: dict[str, Any]) -> None:
        self.pair_id, self.mentee_id, self.status = p["pair_id"], p["mentee_id"], "open"

    def when_objective_updated(self, p: dict[str, Any]) -> None:
        self.status = p["status"]

    def when_objective_edited(self, p: dict[str, Any]) -> None:
        self.agreed = False

    def when_action_step_planned(self, p: dict[str, Any]) -> None:
        self.steps[p["step_id"]] = p["status"]

    def when_objective_agreed(self, p: dict[str, Any]) -> None:
        self.agreed = True
