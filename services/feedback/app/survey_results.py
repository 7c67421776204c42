"""An issued survey's results for its cycle's coordinators, and their de-identified export
(recorded in the consortium audit trail before a row leaves)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.eventkit.audit import AccessLog
from services.eventkit.envelope import new_id

from ..domain.survey_results import result_rows, survey_results
from ..readmodels import roster, surveys
from .unit_of_work import UnitOfWork


def results(conn: sa.Connection, instance_id: str) -> dict[str, Any]:
    instance, template, issued, responses = surveys.results_inputs(conn, instance_id)
    return {
        "instance_id": instance_id,
        "cycle_id": instance["cycle_id"],
        "template_id": template["template_id"],
        "template": template["name"],
        "month": instance["month"],
        "issued_at": instance["issued_at"],
        "due_on": instance["due_on"],
        "audience": instance["audience"],
        **survey_results(template["items"], issued, responses),
    }


def export(uow: UnitOfWork, instance_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The results and their de-identified rows, the export recorded (RecordsExported) first."""
    found = results(uow.conn, instance_id)
    rows = result_rows(found)
    cycle = roster.cycle(uow.conn, found["cycle_id"])
    log = AccessLog(new_id())
    log.record(
        "RecordsExported", what=f"survey results: {found['template']}"[:100],
        cycle_id=cycle["id"], program_id=cycle["program_id"], rows=len(rows),
    )  # fmt: skip
    uow.save_about(log, cycle["institution_id"])
    return found, rows
