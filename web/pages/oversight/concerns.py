"""The concerns inbox (with the rematch requests of the coordinator's cycles) and a concern's
page: the pair or group and the person it is about, its timeline, acknowledge, resolve.

Reading a concern's content is recorded by the service, so the inbox lists concerns without it
and only the concern's own page fetches it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from ...calls import call, fetch, fetch_or
from ...client import ServiceError
from ...identity import STAFF, roles_required
from ...rendering import render
from ..blueprints import oversight as bp
from .common import Names, age, parse_time, when
from .rematch_requests import rematch_requests

CONCERN_STATES = {
    "raised": "New, not acknowledged",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
}
CONCERN_KINDS = {
    "no_contact": "No contact from the other member",
    "boundary": "Boundaries or conduct",
    "rematch": "Asks for a new match",
    "other": "Something else",
}
ESCALATION_REASONS = {
    "coordinator_party": "a coordinator is a party to it",
    "not_acknowledged": "it was not acknowledged in time",
}
RAISER_ROLES = {"mentor": "Mentor", "mentee": "Mentee"}


def _concern_summary(row: dict[str, Any], now: dt.datetime, cycles: dict[str, str]) -> dict:
    overdue = row["status"] == "raised" and parse_time(row["ack_due"]) <= now
    return {
        **row,
        "state": CONCERN_STATES.get(row["status"], row["status"]),
        "age": age(row["raised_at"], now),
        "raised": when(row["raised_at"]),
        "ack_by": when(row["ack_due"]),
        "overdue": overdue,
        "cycle_name": cycles.get(row["cycle_id"], "a cycle"),
        "escalation": ESCALATION_REASONS.get(
            row.get("escalation_reason") or "", row.get("escalation_reason")
        ),
    }


@bp.get("/concerns")
@roles_required(*STAFF)
def concerns() -> ResponseReturnValue:
    status = request.args.get("status", "")
    if status not in CONCERN_STATES:
        status = ""
    rows = fetch("feedback", "/api/concerns", params={"status": status} if status else None)
    cycles = {
        cycle_id: fetch_or("enrollment", f"/api/cycles/{cycle_id}", {}).get("name", "a cycle")
        for cycle_id in {r["cycle_id"] for r in rows}
    }
    now = dt.datetime.now(dt.UTC)
    order = {"raised": 0, "acknowledged": 1, "resolved": 2}
    listed = sorted(
        (_concern_summary(r, now, cycles) for r in rows),
        key=lambda c: (order.get(c["status"], 3), c["raised_at"]),
    )
    return render(
        "oversight/concerns.html",
        concerns=listed,
        rematches=rematch_requests(),
        chosen=status,
        states=CONCERN_STATES,
    )


def _concern_unavailable() -> ResponseReturnValue:
    return (
        render_template(
            "error.html",
            title="This concern is not available to you",
            message="Either there is no such concern, or it is not yours to handle. A concern "
            "is never shown to the people it is about: if you are a party to it, another "
            "coordinator of the program or the consortium admin handles it. The consortium "
            "admin sees a concern only once it is escalated.",
            action=(url_for("oversight.concerns"), "Back to the concerns inbox"),
        ),
        404,
    )


@dataclasses.dataclass
class ResolveForm:
    note: str = ""
    error: str = ""


@dataclasses.dataclass
class ActionForm:
    """A refused action following the concern (concern_actions), shown again with its error."""

    action: str = ""
    note: str = ""
    error: str = ""


ACTION_LABELS = {
    "note": "Note to file",
    "pair_ended": "Pair ended",
    "rematch": "Pair ended for a rematch",
}


KIND_LABELS = {"pair": "Pair", "group": "Coaching group", "family": "Mentoring family"}


def _relationship(row: dict[str, Any], names: Names) -> dict[str, Any] | None:
    """The pair, group or family as its handlers read it: who is in it, with their roles."""
    rel = row.get("relationship")
    if not rel:
        return None
    titles = rel.get("titles") or {}
    members = sorted(rel["members"].items(), key=lambda m: (m[1] != "mentor", names(m[0])))
    people = [{"id": p, "name": names(p), "role": titles.get(p) or r} for p, r in members]
    who = ", ".join(f"{m['name']} ({m['role']})" for m in people)
    return {**rel, "people": people, "label": f"{KIND_LABELS.get(rel['kind'], 'Pair')}: {who}"}


def _timeline(row: dict[str, Any], names: Names) -> list[dict[str, str]]:
    """What happened to the concern, oldest first."""
    events = [(row["raised_at"], "Raised", names(row["raised_by"]), "")]
    if row.get("escalated_at"):
        reason = ESCALATION_REASONS.get(row.get("escalation_reason") or "", "")
        events.append((row["escalated_at"], "Escalated to the consortium admin", "", reason))
    if row.get("acknowledged_at"):
        events.append((row["acknowledged_at"], "Acknowledged", names(row["acknowledged_by"]), ""))
    for action in row.get("actions") or []:
        label = ACTION_LABELS.get(action["action"], action["action"])
        events.append((action["taken_at"], label, names(action["taken_by"]), action["note"]))
    if row.get("resolved_at"):
        events.append((row["resolved_at"], "Resolved", names(row["resolved_by"]), ""))
    return [
        {"when": when(at), "at": at, "what": what, "who": who, "note": note}
        for at, what, who, note in sorted(events, key=lambda e: e[0])
    ]


def _concern_page(
    concern_id: str,
    resolve: ResolveForm | None = None,
    error: str = "",
    status: int = 200,
    action: ActionForm | None = None,
) -> ResponseReturnValue:
    # Reading the content first: the service records this read before answering, so the
    # access log fetched next already shows it.
    reply = call("feedback", "GET", f"/api/concerns/{concern_id}")
    if reply.status in (403, 404):
        return _concern_unavailable()
    if not reply.ok:
        raise ServiceError("feedback", f"HTTP {reply.status}")
    row = reply.body
    access = fetch_or("feedback", f"/api/concerns/{concern_id}/access-log", [])
    names = Names()
    now = dt.datetime.now(dt.UTC)
    cycle = fetch_or("enrollment", f"/api/cycles/{row['cycle_id']}", {})
    concern = {
        **_concern_summary(row, now, {row["cycle_id"]: cycle.get("name", "a cycle")}),
        "kind_label": CONCERN_KINDS.get(row["kind"], row["kind"]),
        "raiser": names(row["raised_by"]),
        "raiser_role": RAISER_ROLES.get(row["raiser_role"], row["raiser_role"]),
        "acknowledged": when(row.get("acknowledged_at")),
        "acknowledger": names(row.get("acknowledged_by")),
        "resolved": when(row.get("resolved_at")),
        "resolver": names(row.get("resolved_by")),
        "escalated_when": when(row.get("escalated_at")),
        "handler": row["viewed_as"] in ("coordinator", "consortium_admin"),
        "relationship": _relationship(row, names),
        "about": names(row.get("about_id")),
    }
    rel = concern["relationship"]
    if rel and row.get("about_id"):
        role = next((m["role"] for m in rel["people"] if m["id"] == row["about_id"]), "")
        concern["about"] = f"{concern['about']} ({role})" if role else concern["about"]
    log = [
        {
            "viewer": names(entry["viewer_id"]),
            "role": entry["viewer_role"].replace("_", " ").capitalize(),
            "when": when(entry["viewed_at"]),
        }
        for entry in reversed(access)
    ]
    return render(
        "oversight/concern.html",
        status=status,
        concern=concern,
        access_log=log,
        resolve=resolve or ResolveForm(),
        error=error,
        timeline=_timeline(row, names),
        action=action or ActionForm(),
        action_labels=ACTION_LABELS,
    )


@bp.get("/concerns/<concern_id>")
@roles_required(*STAFF)
def concern(concern_id: str) -> ResponseReturnValue:
    return _concern_page(concern_id)


@bp.post("/concerns/<concern_id>/acknowledge")
@roles_required(*STAFF)
def concern_acknowledge(concern_id: str) -> ResponseReturnValue:
    reply = call("feedback", "POST", f"/api/concerns/{concern_id}/acknowledge")
    if reply.status in (403, 404):
        return _concern_unavailable()
    if not reply.ok:
        return _concern_page(concern_id, error=reply.message, status=reply.status)
    flash("Concern acknowledged. Resolve it here once it has been dealt with.")
    return redirect(url_for("oversight.concern", concern_id=concern_id), 303)


@bp.post("/concerns/<concern_id>/resolve")
@roles_required(*STAFF)
def concern_resolve(concern_id: str) -> ResponseReturnValue:
    note = request.form.get("note", "").strip()
    if not note:
        form = ResolveForm(note, "Say how the concern was resolved.")
        return _concern_page(concern_id, resolve=form, status=422)
    reply = call("feedback", "POST", f"/api/concerns/{concern_id}/resolve", json={"note": note})
    if reply.status in (403, 404):
        return _concern_unavailable()
    if not reply.ok:
        errors = reply.field_errors()
        if "note" in errors:
            return _concern_page(concern_id, ResolveForm(note, errors["note"]), status=422)
        return _concern_page(concern_id, ResolveForm(note), reply.message, status=reply.status)
    flash("Concern resolved. The note is kept with it.")
    return redirect(url_for("oversight.concern", concern_id=concern_id), 303)
