"""The consortium admin's operations page: each service's health, its worker's relay backlog,
consumer lag and dead-lettered messages with their errors, and the repairs (send a
dead-lettered message again, queue a parked outbox row again), each kept in the audit trail."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from services.eventkit import config

from ... import access_log, client, identity, suite_status
from ...calls import call
from ...client import ServiceError
from ...rendering import render
from ..blueprints import admin as bp

REPAIRS = {"redrive": ("/api/operations/redrive", "ref"), "retry": ("/api/operations/retry", "row_id")}  # fmt: skip


def _pipeline(token: str) -> dict[str, dict[str, Any] | None]:
    """Each service's parked rows and dead letters, asked in parallel (None: no answer)."""
    services = client.current()

    def ask(name: str) -> dict[str, Any] | None:
        try:
            reply = services.request(name, "GET", "/api/operations", token=token, timeout_s=15)
        except ServiceError:
            return None
        return reply.body if reply.ok and isinstance(reply.body, dict) else None

    with ThreadPoolExecutor(max_workers=len(config.SERVICES)) as pool:
        return dict(zip(config.SERVICES, pool.map(ask, config.SERVICES), strict=True))


@bp.get("/operations")
def operations() -> ResponseReturnValue:
    services = client.current()
    statuses = {s.name: s for s in suite_status.statuses(services, with_counts=False)}
    return render(
        "admin/operations.html",
        services=config.SERVICES,
        statuses=statuses,
        workers=suite_status.worker_health(services),
        pipeline=_pipeline(identity.service_token()),
    )


@bp.post("/operations/<service>/<repair>")
def repair(service: str, repair: str) -> ResponseReturnValue:
    if service not in config.SERVICES or repair not in REPAIRS:
        return render("error.html", status=404, title="Not found",
                      message="There is no such repair.")  # fmt: skip
    path, field = REPAIRS[repair]
    value: Any = request.form.get(field, "").strip()[:300]
    if field == "row_id":
        value = int(value) if value.isdigit() else 0
    reply = call(service, "POST", path, json={field: value})
    if reply.ok:
        user = identity.current_user()
        access_log.record(
            client.current(), access_log.OPERATION, method=repair,
            person_id=user.person_id if user else None, what=f"{service} {value}"[:100],
        )  # fmt: skip
        flash(f"{service.capitalize()}: {'sent again' if repair == 'redrive' else 'queued again'}"
              f" ({value}).")  # fmt: skip
    else:
        flash(f"{service.capitalize()}: nothing was changed ({reply.body.get('message', reply.status) if isinstance(reply.body, dict) else reply.status}).")  # fmt: skip
    return redirect(url_for("admin.operations"), 303)
