"""Surveys issued now and their results: a cycle's coordinators issue one of the institution's
templates now (to the whole cycle, chosen pairs and groups, or those at risk), follow its response
rate and read its per-item results, every figure describing fewer than 5 people suppressed, and
export them de-identified (the export recorded in the audit trail)."""

from __future__ import annotations

import csv
import io

from flask import Response
from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import principal, runtime

from ..app import survey_results
from ..app.survey_issuing import issue_now
from ..domain.survey_results import RESULT_COLUMNS
from ..readmodels import roster
from ..readmodels import surveys as issued
from . import access
from .context import work
from .schemas import RelationshipOut
from .survey_schemas import IssuedOut, IssueNowIn, ResultsOut

blp = Blueprint(
    "survey_results", __name__, url_prefix="/api", description="Surveys issued now and results"
)


def _issued(conn, cycle_id: str, instance_id: str) -> dict:
    return next(x for x in issued.instances_of(conn, cycle_id) if x["instance_id"] == instance_id)


@blp.route("/cycles/<cycle_id>/relationships", methods=["GET"])
@guard("cycle.surveys", access.cycle)
@blp.response(200, RelationshipOut(many=True))
def cycle_relationships(cycle_id):
    """The cycle's pairs and groups with their members' names, to choose whom to survey."""
    with runtime().reading() as conn:
        rels = roster.cycle_relationships(conn, cycle_id)
        names = roster.names(conn, {p for r in rels for p in r.members})
    return [
        {**vars(r), "names": {p: names.get(p) for p in r.members}}
        for r in sorted(rels, key=lambda r: sorted(names.get(p) or "" for p in r.mentors))
    ]


@blp.route("/cycles/<cycle_id>/surveys/issue-now", methods=["POST"])
@guard("cycle.surveys", access.cycle)
@blp.arguments(IssueNowIn)
@blp.response(201, IssuedOut)
def issue_survey_now(data, cycle_id):
    """Issue one of the institution's templates now to the cycle's active pairs and groups (all,
    `chosen` by id, or `at_risk`); each member is asked to answer it within `days_to_answer`."""
    with work() as uow:
        instance_id = issue_now(
            uow, cycle_id, data["template_id"], data["audience"], data["relationship_ids"],
            data["days_to_answer"], data["inactive_days"], principal().user_id,
        )  # fmt: skip
        return _issued(uow.conn, cycle_id, instance_id)


@blp.route("/cycles/<cycle_id>/survey-instances", methods=["GET"])
@guard("cycle.health", access.cycle)
@blp.response(200, IssuedOut(many=True))
def list_issued(cycle_id):
    """The cycle's issued surveys (scheduled or issued now), newest first, with how many they
    went to and how many answered."""
    with runtime().reading() as conn:
        return issued.instances_of(conn, cycle_id)


@blp.route("/survey-instances/<instance_id>/results", methods=["GET"])
@guard("cycle.health", access.survey_cycle)
@blp.response(200, ResultsOut)
def survey_instance_results(instance_id):
    """The response rate and each item's results: Likert distributions, choice counts, and
    free-text answers only where the template shares them; each suppressed under 5 people."""
    with runtime().reading() as conn:
        return survey_results.results(conn, instance_id)


RESULTS_CSV_RESPONSE = {
    "description": "One row per Likert point, option or shared answer; columns: "
    + ", ".join(RESULT_COLUMNS)
    + ". No names or ids; suppressed items give no row.",
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
}


@blp.route("/survey-instances/<instance_id>/results.csv", methods=["GET"])
@guard("cycle.health", access.survey_cycle)
@blp.doc(responses={"200": RESULTS_CSV_RESPONSE})
def export_survey_results(instance_id):
    """The results de-identified as CSV (the export is recorded as RecordsExported first)."""
    with work() as uow:
        _, rows = survey_results.export(uow, instance_id)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=RESULT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="survey-results-{instance_id[:8]}.csv"'
    )
    return response
