"""Building a survey template, question by question, without JavaScript."""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.auth import COORDINATOR
from services.eventkit.contracts.feedback import SURVEY_ITEM_KINDS

from ...calls import call, can, staff_institutions
from ...client import Reply
from ...identity import forbidden, roles_required
from ...rendering import render
from ..blueprints import oversight as bp

KIND_LABELS = {"likert": "Agreement, 1 to 5", "choice": "One choice", "text": "Free text"}


DEFAULT_QUESTION_ROWS = 3
MAX_QUESTION_ROWS = 50  # the service takes at most 50 items


@dataclasses.dataclass
class QuestionRow:
    kind: str = "likert"
    prompt: str = ""
    choices: str = ""
    required: bool = True
    shared: bool = False  # free text the coordinators may read in the results
    errors: dict[str, str] = dataclasses.field(default_factory=dict)

    @property
    def blank(self) -> bool:
        return not self.prompt.strip() and not self.choices.strip()

    def item(self) -> dict[str, Any]:
        """The row as the service's survey item."""
        lines = [line.strip() for line in self.choices.splitlines() if line.strip()]
        item: dict[str, Any] = {
            "kind": self.kind,
            "prompt": self.prompt.strip(),
            "required": self.required,
        }
        if self.kind == "choice":
            item["options"] = lines
        elif self.kind == "likert" and lines:
            item["labels"] = lines
        elif self.kind == "text":
            item["shared"] = self.shared
        return item


def _question_rows() -> list[QuestionRow]:
    try:
        count = int(request.form.get("rows", DEFAULT_QUESTION_ROWS))
    except ValueError:
        count = DEFAULT_QUESTION_ROWS
    rows = []
    for n in range(min(max(count, 1), MAX_QUESTION_ROWS)):
        rows.append(
            QuestionRow(
                kind=request.form.get(f"q{n}-kind", "likert"),
                prompt=request.form.get(f"q{n}-prompt", ""),
                choices=request.form.get(f"q{n}-choices", ""),
                required=request.form.get(f"q{n}-required") == "1",
                shared=request.form.get(f"q{n}-shared") == "1",
            )
        )
    return rows


def _template_form(
    institution: dict[str, Any],
    name: str = "",
    description: str = "",
    rows: list[QuestionRow] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    focus_row: int | None = None,
) -> ResponseReturnValue:
    rows = rows or [QuestionRow() for _ in range(DEFAULT_QUESTION_ROWS)]
    return render(
        "oversight/survey_template_new.html",
        status=status,
        institution=institution,
        name=name,
        description=description,
        rows=rows,
        errors=errors or {},
        kinds=[(k, KIND_LABELS[k]) for k in SURVEY_ITEM_KINDS],
        can_add_row=len(rows) < MAX_QUESTION_ROWS,
        focus_row=focus_row,
    )


def _institution(institution_id: str) -> dict[str, Any]:
    for institution in staff_institutions():
        if institution["id"] == institution_id:
            return institution
    abort(404)


@bp.route("/institutions/<institution_id>/survey-templates/new", methods=["GET", "POST"])
@roles_required(COORDINATOR)
def survey_template_new(institution_id: str) -> ResponseReturnValue:
    if not can("survey.templates", institution_id):
        return forbidden()
    institution = _institution(institution_id)
    if request.method == "GET":
        return _template_form(institution)
    name = request.form.get("name", "").strip()
    description = request.form.get("description", "").strip()
    rows = _question_rows()
    if request.form.get("action") == "add_row" and len(rows) < MAX_QUESTION_ROWS:
        rows.append(QuestionRow())
        return _template_form(institution, name, description, rows, focus_row=len(rows) - 1)

    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Give the template a name."
    sent = [row for row in rows if not row.blank]
    if not sent:
        errors["items"] = "Add at least one question."
    for row in sent:
        if not row.prompt.strip():
            row.errors["prompt"] = "Write the question."
    if errors or any(row.errors for row in sent):
        return _template_form(institution, name, description, rows, errors, status=422)

    body = {"name": name, "description": description, "items": [row.item() for row in sent]}
    reply = call(
        "feedback", "POST", f"/api/institutions/{institution_id}/survey-templates", json=body
    )
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        _place_errors(reply, sent, errors)
        return _template_form(institution, name, description, rows, errors, status=reply.status)
    flash(f"Survey template “{reply.body['name']}” created. Schedule it for a cycle below.")
    return redirect(url_for("oversight.surveys") + f"#institution-{institution_id}", 303)


def _place_errors(reply: Reply, sent: list[QuestionRow], errors: dict[str, str]) -> None:
    """The service's messages next to the fields they are about ('items.2.options' is the
    options box of the third question sent, which blank rows may have moved)."""
    fields = {"kind": "kind", "prompt": "prompt", "options": "choices", "labels": "choices"}
    for key, message in reply.field_errors().items():
        parts = key.split(".")
        if parts[0] == "items" and len(parts) >= 3 and parts[1].isdigit():
            index = int(parts[1])
            if index < len(sent):
                sent[index].errors.setdefault(fields.get(parts[2], "prompt"), message)
                continue
        errors.setdefault(parts[0] if parts[0] in ("name", "description") else "items", message)
    if not errors and not any(row.errors for row in sent):
        errors["items"] = reply.message
