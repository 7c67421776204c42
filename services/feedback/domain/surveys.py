"""Surveys: templates and their items, schedules, instances issued once, responses revised.

Ids that must name one thing whoever computes them (a schedule per cycle and template, an instance
per schedule and month, a response per instance and person) are stable_id()s."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError
from services.eventkit.contracts.feedback import (
    DAYS_TO_ANSWER,
    MAX_DAYS_TO_ANSWER,
    SURVEY_AUDIENCES,
)
from services.eventkit.contracts.surveys import (
    DEFAULT_LIKERT_LABELS,
    LIKERT_POINTS,
    SURVEY_ITEM_KINDS,
    TEXT_MAX_LENGTH,
    item_shape_error,
)

from .relationships import Relationship, clean_texts

_SURVEY_NS = uuid.UUID("5b0f7c1e-2a55-4c4e-9a8e-7f3c2d1b0a99")


def stable_id(*parts: str) -> str:
    """A deterministic id (UUID 5) from its parts: the same inputs always name the same thing, so
    a second worker or a restart appends to the same stream and the store refuses the duplicate."""
    return str(uuid.uuid5(_SURVEY_NS, "\x1f".join(parts)))


def normalize_items(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A template's items, checked and completed; DomainError names `items.<n>.<field>`."""
    if not items:
        raise DomainError("A survey needs at least one item.", "items")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, raw in enumerate(items):
        kind = raw.get("kind")
        where = f"items.{n}"
        if kind not in SURVEY_ITEM_KINDS:
            raise DomainError(f"Kind is one of: {', '.join(SURVEY_ITEM_KINDS)}.", f"{where}.kind")
        prompt = (raw.get("prompt") or "").strip()
        if not prompt:
            raise DomainError("Give the item a prompt.", f"{where}.prompt")
        item_id = (raw.get("item_id") or f"q{n + 1}").strip()
        if item_id in seen:
            raise DomainError("Item ids must be unique.", f"{where}.item_id")
        seen.add(item_id)
        item: dict[str, Any] = {
            "item_id": item_id, "kind": kind, "prompt": prompt,
            "required": bool(raw.get("required", True)),
        }  # fmt: skip
        labels = clean_texts(raw.get("labels") or []) if kind == "likert" else []
        options = clean_texts(raw.get("options") or []) if kind == "choice" else []
        limit = int(raw.get("max_length") or TEXT_MAX_LENGTH) if kind == "text" else None
        broken = item_shape_error(kind, labels, options, limit)
        if broken:
            field, message = broken
            raise DomainError(message, f"{where}.{field}")
        item["labels"] = labels or (list(DEFAULT_LIKERT_LABELS) if kind == "likert" else [])
        item["options"], item["max_length"] = options, limit
        item["shared"] = kind == "text" and bool(raw.get("shared", False))
        out.append(item)
    return out


def answer_errors(items: Sequence[dict[str, Any]], answers: dict[str, Any]) -> dict[str, str]:
    """Why each answer does not fit its item ({item_id: message}); empty when all are valid."""
    errors: dict[str, str] = {}
    known = {i["item_id"] for i in items}
    for item_id in answers:
        if item_id not in known:
            errors[item_id] = "This survey has no such item."
    for item in items:
        value = answers.get(item["item_id"])
        if isinstance(value, str) and item["kind"] != "likert":
            value = value.strip() or None
        if value is None:
            if item["required"]:
                errors[item["item_id"]] = "An answer is required."
            continue
        if item["kind"] == "likert":
            if isinstance(value, bool) or not isinstance(value, int):
                errors[item["item_id"]] = f"Answer with a whole number from 1 to {LIKERT_POINTS}."
            elif not 1 <= value <= LIKERT_POINTS:
                errors[item["item_id"]] = f"Answer from 1 to {LIKERT_POINTS}."
        elif item["kind"] == "choice":
            if value not in item["options"]:
                errors[item["item_id"]] = f"Choose one of: {', '.join(item['options'])}."
        elif not isinstance(value, str):
            errors[item["item_id"]] = "Answer with text."
        elif len(value) > item["max_length"]:
            errors[item["item_id"]] = f"At most {item['max_length']} characters."
    return errors


def clean_answers(items: Sequence[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        value = answers.get(item["item_id"])
        if isinstance(value, str):
            value = value.strip() or None
        out[item["item_id"]] = value
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class SurveyTemplate(Aggregate):
    stream_prefix = "survey-template"

    def define(
        self,
        institution_id: str,
        name: str,
        items: Sequence[dict[str, Any]],
        by: str,
        description: str = "",
        builtin: str | None = None,
    ) -> None:
        if self.exists:
            raise DomainError("This template exists already.", "template_id")
        name = (name or "").strip()
        if not name:
            raise DomainError("Give the template a name.", "name")
        self.record(
            "SurveyTemplateDefined", template_id=self.id, institution_id=institution_id,
            name=name, description=(description or "").strip(), builtin=builtin,
            items=normalize_items(items), defined_by=by,
        )  # fmt: skip


class SurveySchedule(Aggregate):
    """One template scheduled for one cycle (its id is stable_id(cycle, template): once)."""

    stream_prefix = "survey-schedule"

    def schedule(
        self,
        template_id: str,
        cycle_id: str,
        months: Iterable[int],
        by: str,
        days_to_answer: int = DAYS_TO_ANSWER,
    ) -> None:
        if self.exists:
            raise DomainError("This survey is scheduled for this cycle already.", "template_id")
        chosen = sorted(set(months))
        if not chosen:
            raise DomainError(
                "Give the months of the cycle to issue it at (the cycle has no review months).",
                "months",
            )
        if any(not 0 <= m <= 60 for m in chosen):
            raise DomainError("Months are 0 to 60 from the start of the cycle.", "months")
        if not 1 <= days_to_answer <= MAX_DAYS_TO_ANSWER:
            raise DomainError(
                f"Give people 1 to {MAX_DAYS_TO_ANSWER} days to answer.", "days_to_answer"
            )
        self.record(
            "SurveyScheduled", schedule_id=self.id, template_id=template_id, cycle_id=cycle_id,
            months=chosen, scheduled_by=by, days_to_answer=days_to_answer,
        )  # fmt: skip


class SurveyInstance(Aggregate):
    """A scheduled month's survey; its id is stable_id(schedule, month) so it is issued once."""

    stream_prefix = "survey-instance"

    def issue(
        self,
        schedule_id: str,
        template_id: str,
        cycle_id: str,
        month: int,
        issued_on: dt.date,
        relationships: Sequence[Relationship],
        days_to_answer: int = DAYS_TO_ANSWER,
        **now: str,
    ) -> bool:
        """Issue once, on the scheduled day `issued_on`, to be answered within `days_to_answer`
        (`now`: issued_by and audience, when a coordinator issues it now)."""
        if self.exists:
            return False
        recipients = {}
        for rel in relationships:
            if rel.active:
                for person_id, role in rel.members.items():
                    recipients.setdefault(person_id, {"pair_id": rel.id, "role": role})
        self.record(
            "SurveyIssued", instance_id=self.id, schedule_id=schedule_id,
            template_id=template_id, cycle_id=cycle_id, month=month,
            issued_on=issued_on.isoformat(),
            due_on=(issued_on + dt.timedelta(days=days_to_answer)).isoformat(),
            recipients=[{"person_id": p, **v} for p, v in sorted(recipients.items())],
            **now,
        )  # fmt: skip
        return True

    def issue_now(
        self,
        template_id: str,
        cycle_id: str,
        month: int,
        today: dt.date,
        relationships: Sequence[Relationship],
        days_to_answer: int,
        by: str,
        audience: str,
    ) -> None:
        """A coordinator issues a template now, to the active pairs and groups chosen (its own id
        stands for a schedule: it is issued once, outside any schedule)."""
        if self.exists:
            raise DomainError("This survey is issued already.", "instance_id")
        if audience not in SURVEY_AUDIENCES:
            raise DomainError(f"Audience is one of: {', '.join(SURVEY_AUDIENCES)}.", "audience")
        if not 1 <= days_to_answer <= MAX_DAYS_TO_ANSWER:
            raise DomainError(
                f"Give people 1 to {MAX_DAYS_TO_ANSWER} days to answer.", "days_to_answer"
            )
        if not any(rel.active for rel in relationships):
            where = "relationship_ids" if audience == "chosen" else "audience"
            raise DomainError("No active pair or group to issue it to.", where)
        self.issue(
            self.id, template_id, cycle_id, month, today, relationships, days_to_answer,
            issued_by=by, audience=audience,
        )  # fmt: skip


class SurveyResponse(Aggregate):
    """One person's response to one instance (id stable_id(instance, person)): a second submit
    is a new revision of the same response, never a second response."""

    stream_prefix = "survey-response"

    def __init__(self, response_id: str) -> None:
        super().__init__(response_id)
        self.revision = 0

    def answer(
        self,
        instance_id: str,
        person_id: str,
        recipients: Iterable[str],
        items: Sequence[dict[str, Any]],
        answers: dict[str, Any],
    ) -> None:
        if person_id not in set(recipients):
            raise DomainError("This survey was not issued to you.", "instance_id")
        errors = answer_errors(items, answers)
        if errors:
            item_id, message = sorted(errors.items())[0]
            raise DomainError(message, f"answers.{item_id}")
        self.record(
            "SurveyAnswered", instance_id=instance_id, person_id=person_id,
            revision=self.revision + 1, answers=clean_answers(items, answers),
        )  # fmt: skip

    def when_survey_answered(self, p: dict[str, Any]) -> None:
        self.revision = p["revision"]
