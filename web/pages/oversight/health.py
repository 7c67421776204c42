"""A cycle's program health dashboard (polled with htmx) and its de-identified export."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from flask import Response, abort, request
from flask.typing import ResponseReturnValue

from ...calls import call
from ...client import Reply, ServiceError
from ...identity import STAFF, roles_required
from ...rendering import render, wants_fragment
from ..blueprints import oversight as bp
from .common import MIN_PEOPLE, coordinates, cycle_with_program, not_known_yet
from .health_view import dashboard

HEALTH_POLL_S = 30
DEFAULT_INACTIVE_DAYS = 30


def _inactive_days() -> int:
    try:
        days = int(request.args.get("inactive_days", DEFAULT_INACTIVE_DAYS))
    except ValueError:
        return DEFAULT_INACTIVE_DAYS
    return min(max(days, 1), 365)


def _unusable(reply: Reply, cycle: dict[str, Any]) -> ResponseReturnValue | None:
    """The page for feedback's refusal of the cycle's numbers; None when they came."""
    if reply.status == 403:
        abort(403)
    if reply.status == 404:
        return not_known_yet(cycle)
    if not reply.ok:
        raise ServiceError("feedback", f"HTTP {reply.status}")
    return None


@bp.get("/cycles/<cycle_id>/health")
@roles_required(*STAFF)
def health(cycle_id: str) -> ResponseReturnValue:
    inactive_days = _inactive_days()
    polling = wants_fragment()
    try:
        cycle = cycle_with_program(cycle_id)
        reply = call(
            "feedback",
            "GET",
            f"/api/cycles/{cycle_id}/health",
            params={"inactive_days": inactive_days},
        )
    except ServiceError:
        if polling:
            return Response(status=204)  # keep the numbers on screen until the next poll
        raise
    if (refused := _unusable(reply, cycle)) is not None:
        return refused
    health_data = reply.body
    return render(
        "oversight/health.html",
        fragment="dashboard",
        cycle=cycle,
        health=health_data,
        inactive_days=inactive_days,
        poll_s=HEALTH_POLL_S,
        min_people=MIN_PEOPLE,
        identified=coordinates(cycle),
        checked_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
        **dashboard(health_data),
    )


@bp.get("/cycles/<cycle_id>/export")
@roles_required(*STAFF)
def exports(cycle_id: str) -> ResponseReturnValue:
    cycle = cycle_with_program(cycle_id)
    reply = call("feedback", "GET", f"/api/cycles/{cycle_id}/export.csv")
    if (refused := _unusable(reply, cycle)) is not None:
        return refused
    reader = csv.reader(io.StringIO(reply.content.decode("utf-8")))
    columns = next(reader, [])
    rows = sum(1 for _ in reader)
    return render(
        "oversight/export.html",
        cycle=cycle,
        columns=columns,
        rows=rows,
        min_people=MIN_PEOPLE,
    )


@bp.get("/cycles/<cycle_id>/export.csv")
@roles_required(*STAFF)
def export_csv(cycle_id: str) -> ResponseReturnValue:
    reply = call("feedback", "GET", f"/api/cycles/{cycle_id}/export.csv")
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        raise ServiceError("feedback", f"HTTP {reply.status}")
    response = Response(reply.content, mimetype="text/csv")
    name = f"tandem-outcomes-{cycle_id[:8]}-{dt.date.today().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response
