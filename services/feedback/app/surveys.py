"""Surveys: an institution's templates (defined, or copied from the ready-made set), scheduled
for a cycle of one of its programs, answered by the people an instance was issued to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from services.eventkit import ConcurrencyError, DomainError, Runtime
from services.eventkit.envelope import new_id

from ..domain.builtin_surveys import BUILTIN_TEMPLATES
from ..domain.surveys import (
    SurveyResponse,
    SurveySchedule,
    SurveyTemplate,
    answer_errors,
    stable_id,
)
from ..readmodels import roster, surveys
from .unit_of_work import Meta, UnitOfWork, unit_of_work


class InvalidAnswers(DomainError):
    """Answers that do not fit their items: `errors` says why, per item id."""

    def __init__(self, errors: dict[str, str]) -> None:
        item_id, message = sorted(errors.items())[0]
        super().__init__(message, f"answers.{item_id}")
        self.errors = errors


def define_template(
    uow: UnitOfWork,
    institution_id: str,
    by: str,
    name: str,
    items: Sequence[dict[str, Any]],
    description: str = "",
) -> str:
    """The new template's id."""
    template = SurveyTemplate(new_id())
    template.define(institution_id, name, items, by, description)
    uow.save_about(template, institution_id)
    return template.id


def seed_templates(
    runtime: Runtime, institution_id: str, by: str, builtins: Iterable[str], meta: Meta
) -> list[str]:
    """Copy ready-made templates into the institution, each once (its id is stable per
    institution and built-in, so seeding twice changes nothing); their ids."""
    ids = []
    for key in builtins:
        spec = BUILTIN_TEMPLATES[key]
        template_id = stable_id("survey-template", institution_id, key)
        try:
            with unit_of_work(runtime, meta=meta) as uow:
                template = uow.load(SurveyTemplate, template_id)
                if not template.exists:
                    template.define(
                        institution_id, spec["name"], spec["items"], by, spec["description"],
                        builtin=key,
                    )  # fmt: skip
                    uow.save_about(template, institution_id)
        except ConcurrencyError:
            pass  # seeded by someone else meanwhile
        ids.append(template_id)
    return ids


def schedule(
    uow: UnitOfWork,
    cycle_id: str,
    template_id: str,
    months: Sequence[int] | None,
    days_to_answer: int,
    by: str,
) -> str:
    """Schedule one of the cycle's institution's templates at these months of the cycle (its
    review months if None); once per cycle and template. The schedule's id."""
    cycle = roster.cycle(uow.conn, cycle_id)
    template = surveys.template_or_none(uow.conn, template_id)
    if template is None or template["institution_id"] != cycle["institution_id"]:
        raise DomainError("No such template in this cycle's institution.", "template_id")
    chosen = months if months is not None else cycle["review_months"]
    found = uow.load(SurveySchedule, stable_id("survey-schedule", cycle_id, template_id))
    found.schedule(template_id, cycle_id, chosen, by, days_to_answer)
    uow.save_about(found, cycle["institution_id"])
    return found.id


def answer(uow: UnitOfWork, instance_id: str, person_id: str, answers: dict[str, Any]) -> None:
    """The person's answers, a new revision of their one response; InvalidAnswers names every
    answer that does not fit its item."""
    instance = surveys.instance(uow.conn, instance_id)
    recipients = surveys.recipients(uow.conn, [instance_id]).get(instance_id, set())
    items = surveys.template(uow.conn, instance["template_id"])["items"]
    errors = answer_errors(items, answers)
    if errors:
        raise InvalidAnswers(errors)
    response = uow.load(SurveyResponse, stable_id("survey-response", instance_id, person_id))
    response.answer(instance_id, person_id, recipients, items, answers)
    uow.save_about(response, instance["institution_id"])
