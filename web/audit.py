"""The consortium audit trail as the pages show it: enrollment's trail (GET /api/trail), filtered
and paged newest first with the cursor it gives, its CSV export, and each service's last tamper
check (kept by each worker, so a page view never reads a whole store).

Enrollment decides what the signed-in user may read (the consortium, an institution, or one
program); the page only offers the institutions and programs that scope covers. The coordinator's
page and the consortium admin's page both render through `show`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from flask import Response, abort, g, request, url_for

from services.eventkit.config import SERVICES
from services.eventkit.contracts import enrollment, feedback, notifications, pairing
from services.eventkit.envelope import parse_time

from .calls import call, can, fetch, fetch_or
from .client import ServiceError
from .identity import ROLE_LABELS, current_user
from .rendering import render, wants_fragment

PAGE_SIZE = 50
TEMPLATE = "oversight/audit.html"
TRAIL = "/api/trail"

EVENT_TYPES: dict[str, list[str]] = {
    "enrollment": enrollment.registry.names(),
    "pairing": pairing.registry.names(),
    "feedback": feedback.registry.names(),
    "notifications": notifications.registry.names(),
}
# The page's filter fields, as the trail API names them.
FILTERS = {
    "institution": "institution_id",
    "program": "program_id",
    "actor": "actor",
    "event_type": "event_type",
    "service": "service",
    "entity": "entity_id",
    "since": "since",
    "until": "until",
}


@dataclasses.dataclass(frozen=True)
class Row:
    service: str
    event_type: str
    entity_type: str
    entity_id: str
    institution_id: str | None
    program_id: str | None
    actor_id: str
    actor_role: str
    occurred_at: dt.datetime
    correlation_id: str
    summary: dict[str, Any]

    @property
    def entity_short(self) -> str:
        return self.entity_id[:8]

    @property
    def summary_items(self) -> list[tuple[str, str]]:
        return [(k.replace("_", " "), _text(v)) for k, v in sorted(self.summary.items())]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def row_of(entry: dict[str, Any]) -> Row:
    return Row(
        service=str(entry["service"]),
        event_type=str(entry["event_type"]),
        entity_type=str(entry.get("entity_type") or ""),
        entity_id=str(entry.get("entity_id") or ""),
        institution_id=entry.get("institution_id"),
        program_id=entry.get("program_id"),
        actor_id=str(entry.get("actor_id") or ""),
        actor_role=str(entry.get("actor_role") or ""),
        occurred_at=parse_time(str(entry["occurred_at"])),
        correlation_id=str(entry.get("correlation_id") or ""),
        summary=dict(entry.get("summary") or {}),
    )


@dataclasses.dataclass(frozen=True)
class Chain:
    """A service's last tamper check, as its worker kept it."""

    service: str
    ok: bool | None  # None: not checked yet, or unavailable
    events_checked: int = 0
    checked_at: dt.datetime | None = None
    break_position: int | None = None
    reason: str = ""


def chains(institution_id: str | None) -> list[Chain]:
    """Each service's last check of its whole store, as its worker kept it."""
    found = []
    params = {"institution_id": institution_id} if institution_id else None
    for service in SERVICES:
        try:
            reply = call(service, "GET", "/api/audit/verify", params=params)
        except ServiceError:
            found.append(Chain(service, None, reason="the service did not answer"))
            continue
        body = reply.body if reply.ok and isinstance(reply.body, dict) else {}
        broken = body.get("first_break") or {}
        checked = body.get("checked_at")
        found.append(
            Chain(
                service=service,
                ok=body.get("ok"),
                events_checked=int(body.get("events_checked") or 0),
                checked_at=parse_time(checked) if checked else None,
                break_position=broken.get("position"),
                reason=str(broken.get("reason", "")),
            )
        )
    return found


def actor_names(actor_ids: Iterable[str]) -> dict[str, str]:
    """Names of the people who acted, as far as the signed-in user may read them ("" if not)."""
    cache: dict[str, str] = g.setdefault("audit_actor_names", {})
    for actor_id in set(actor_ids) - {"", "system"} - set(cache):
        reply = call("enrollment", "GET", f"/api/people/{quote(actor_id, safe='')}")
        body = reply.body if reply.ok and isinstance(reply.body, dict) else {}
        cache[actor_id] = str(body.get("name", ""))
    return cache


def _filters() -> dict[str, str]:
    """The page's filters from the query, each bounded the way the API bounds it."""
    args = request.args
    found = {name: args.get(name, "").strip()[:200] for name in FILTERS}
    known = {t for types in EVENT_TYPES.values() for t in types}
    if found["event_type"] not in known:
        found["event_type"] = ""
    if found["service"] not in SERVICES:
        found["service"] = ""
    for day in ("since", "until"):
        try:
            dt.date.fromisoformat(found[day])
        except ValueError:
            found[day] = ""
    return {k: v for k, v in found.items() if v}


def _params(filters: dict[str, str]) -> dict[str, str]:
    return {FILTERS[name]: value for name, value in filters.items()}


def _programs(institutions: dict[str, str]) -> dict[str, str]:
    """Programs of these institutions whose trail the user may read: id -> "Institution · name"."""
    found = {}
    for inst, inst_name in institutions.items():
        for program in fetch_or("enrollment", f"/api/institutions/{inst}/programs", []):
            if can("trail.read", inst, program["id"]):
                found[program["id"]] = f"{inst_name} · {program['name']}"
    return found


def show(endpoint: str, scope: str, institutions: dict[str, str]) -> Response:
    """The audit page, or its rows for an htmx "older" swap, or the tamper check's fragment.

    `institutions`: id -> name of those the user may read (every one for the admin).
    """
    filters = _filters()
    if filters.get("institution") and filters["institution"] not in institutions:
        abort(403 if scope == "coordinator" else 404)
    programs = _programs(institutions)
    if filters.get("program") and filters["program"] not in programs:
        abort(403 if scope == "coordinator" else 404)
    auditable = [i for i in institutions if can("institution.audit", i)]
    verify_institution = filters.get("institution") or (auditable[0] if auditable else None)
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "scope": scope,
        "filters": filters,
        "institutions": institutions,
        "programs": programs,
        "services": SERVICES,
        "event_types": EVENT_TYPES,
        "role_labels": ROLE_LABELS,
        "csv_url": url_for(endpoint + "_csv", **filters),
        "everyone_query": {k: v for k, v in filters.items() if k != "actor"},
        "verify_url": url_for(endpoint, **filters, verify=1)
        if auditable or scope == "admin"
        else None,
        "chains": None,
    }
    if request.args.get("verify") and context["verify_url"]:
        context["chains"] = chains(
            None if scope == "admin" and not filters.get("institution") else verify_institution
        )
        if wants_fragment():
            return render(TEMPLATE, fragment="chains", **context)
    cursor = request.args.get("cursor", "")[:80]
    params: dict[str, Any] = {**_params(filters), "limit": PAGE_SIZE}
    if cursor:
        params["cursor"] = cursor
    body = fetch("enrollment", TRAIL, params)
    rows = [row_of(e) for e in body["entries"]]
    next_cursor = body.get("next_cursor")
    context.update(
        rows=rows,
        older=bool(cursor),
        older_url=url_for(endpoint, **filters, cursor=next_cursor) if next_cursor else None,
        names=actor_names([*(r.actor_id for r in rows), filters.get("actor", "")]),
    )
    return render(TEMPLATE, fragment="rows" if cursor else None, **context)


def export(scope: str, institutions: dict[str, str]) -> Response:
    """The trail as CSV with the page's filters; enrollment records the export before sending."""
    filters = _filters()
    if filters.get("institution") and filters["institution"] not in institutions:
        abort(403 if scope == "coordinator" else 404)
    reply = call("enrollment", "GET", TRAIL + ".csv", params=_params(filters))
    if reply.status in (403, 404):
        abort(reply.status)
    if not reply.ok:
        raise ServiceError("enrollment", f"HTTP {reply.status}")
    response = Response(reply.content, mimetype="text/csv")
    name = f"tandem-audit-trail-{dt.date.today().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


def coordinator_institutions() -> dict[str, str]:
    """The institutions whose trail (or one of whose programs' trail) the coordinator reads."""
    user = current_user()
    grants = user.grants if user else ()
    mine = {
        g.institution_id
        for g in grants
        if g.institution_id and can("trail.read", g.institution_id, g.program_id)
    }
    if not mine:
        abort(403)
    names = {i["id"]: i["name"] for i in fetch_or("enrollment", "/api/institutions", [])}
    return {i: names.get(i, "your institution") for i in sorted(mine)}


def coordinator_page() -> Response:
    return show("oversight.audit", "coordinator", coordinator_institutions())


def coordinator_csv() -> Response:
    return export("coordinator", coordinator_institutions())


def admin_institutions() -> dict[str, str]:
    return {i["id"]: i["name"] for i in fetch("enrollment", "/api/institutions")}


def admin_page() -> Response:
    return show("admin.audit", "admin", admin_institutions())


def admin_csv() -> Response:
    return export("admin", admin_institutions())
