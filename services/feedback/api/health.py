"""Program health, the de-identified export and consortium-wide outcomes: aggregates only, every
one describing fewer than 5 people suppressed. The program's coordinators see whom to contact;
the consortium admin sees pseudonyms."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Response
from flask_smorest import Blueprint

from services.eventkit.access import capacity, consortium, guard
from services.eventkit.http import runtime
from services.eventkit.policy import Who

from ..app import health
from ..domain.outcomes import EXPORT_COLUMNS
from . import access
from .context import today, work
from .schemas import HealthQuery, OutcomesQuery

blp = Blueprint("health", __name__, url_prefix="/api", description="Program health and outcomes")


@blp.route("/cycles/<cycle_id>/health", methods=["GET"])
@guard("cycle.health", access.cycle)
@blp.arguments(HealthQuery, location="query")
@blp.response(200)
def cycle_health(query, cycle_id):
    """Pairs with no meeting in `inactive_days` (at risk), meeting frequency, objectives,
    outcomes per mentor, and per issued survey its response rate and Likert means. Every
    aggregate describing fewer than 5 people is suppressed. The program's coordinators see names;
    the consortium admin sees pseudonyms."""
    with runtime().reading() as conn:
        return health.cycle_health(
            conn, cycle_id, today(), query["inactive_days"],
            with_names=capacity() == Who.COORDINATOR,  # coordinators see whom to contact
        )  # fmt: skip


EXPORT_CSV_RESPONSE = {
    "description": "One row per participant; columns: " + ", ".join(EXPORT_COLUMNS) + ".",
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "headers": {
        "Content-Disposition": {"schema": {"type": "string"}},
        "X-Tandem-Suppressed": {
            "description": "Present when the cycle has fewer than 5 people and no rows are given",
            "schema": {"type": "string"},
        },
    },
}


@blp.route("/cycles/<cycle_id>/export.csv", methods=["GET"])
@guard("cycle.health", access.cycle)
@blp.doc(responses={"200": EXPORT_CSV_RESPONSE})
def export_outcomes(cycle_id):
    """De-identified outcome data as CSV: pseudonymous ids (HMAC) and counts only. No rows when
    the cycle has fewer than 5 people (the header X-Tandem-Suppressed says so)."""
    with work() as uow:
        rows = health.export(uow, cycle_id)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="outcomes-{dt.date.today().isoformat()}.csv"'
    )
    if not rows:
        response.headers["X-Tandem-Suppressed"] = "fewer than 5 people"
    return response


@blp.route("/outcomes", methods=["GET"])
@guard("consortium.outcomes", consortium)
@blp.arguments(OutcomesQuery, location="query")
@blp.response(200)
def consortium_outcomes(query):
    """De-identified outcomes of every institution and each of its programs, over all their
    cycles: pairs, meeting frequency, survey response rates and Likert means. Consortium admin
    only; every figure describing fewer than 5 people is suppressed. No person ids at all."""
    with runtime().reading() as conn:
        return health.consortium_outcomes(conn, query["institution_id"])
