"""Invitations on the coordinator's schedule: when people imported or added are told they are
enrolled (now, at a date and time of the institution, or when the coordinator asks), who has
been invited and who has signed in, and inviting now those not invited yet."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from flask import current_app, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict

from ...calls import call, fetch, fetch_or, seg, staff_cycle
from ...identity import ACCOUNTS_KEY, safe_next
from ..blueprints import coord as bp
from .catalog import refuse_if_forbidden, staff_only

CHOICES = {
    "now": "Invite them now",
    "at": "Invite them at a date and time",
    "manual": "Do not invite them yet (invite them later from the participants page)",
}
STATES = {"invited": "Invited", "scheduled": "Scheduled", "manual": "Not invited yet"}
# Enrollment ids per request for invitations: 50 ids keep the address near 2,500 characters.
INVITATIONS_ASKED = 50


def zone_of(cycle: dict) -> zoneinfo.ZoneInfo:
    """The time zone of the cycle's institution (UTC if it cannot be read)."""
    institutions = fetch_or("enrollment", "/api/institutions", [])
    name = next((i["time_zone"] for i in institutions if i["id"] == cycle["institution_id"]), "")
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def choice(form: MultiDict, zone: dt.tzinfo) -> tuple[dict[str, Any], str]:
    """The invitation the form asks for, as the services take it, or the problem with it."""
    mode = form.get("invite", "now")
    if mode not in CHOICES:
        return {}, "Choose when to invite them."
    if mode != "at":
        return {"mode": mode}, ""
    raw = form.get("invite_at", "").strip()
    try:
        local = dt.datetime.fromisoformat(raw)
    except ValueError:
        return {}, "Give the date and time to invite them at, such as 2026-09-01 08:00."
    at = local.replace(tzinfo=zone) if local.tzinfo is None else local
    if at <= dt.datetime.now(dt.UTC):
        return {}, "Choose a date and time in the future, or invite them now."
    return {"mode": "at", "invite_at": at.isoformat()}, ""


def shown(moment: str | None, zone: dt.tzinfo) -> str:
    """An instant from a service, in the institution's time."""
    if not moment:
        return ""
    at = dt.datetime.fromisoformat(moment)
    at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
    return at.astimezone(zone).strftime("%d %b %Y, %H:%M")


def annotate(cycle: dict, people: list[dict]) -> dict[str, Any]:
    """Each participant's invitation (state, when) and last sign-in, in the institution's time;
    and the counts for the page."""
    zone = zone_of(cycle)
    by_enrollment = {i["enrollment_id"]: i for i in _invitations_of(cycle["id"], people)}
    signed_in = current_app.extensions[ACCOUNTS_KEY].signed_in([p["person_id"] for p in people])
    for person in people:
        invitation = by_enrollment.get(person["id"])
        state = invitation["state"] if invitation else "unknown"
        person["invitation"] = {
            "state": state,
            "label": STATES.get(state, "Not known yet"),
            "when": shown(invitation and (invitation["invited_at"] or invitation["send_at"]), zone),
            "mode": invitation["mode"] if invitation else "",
        }
        last = signed_in.get(person["person_id"])
        person["signed_in"] = shown(last.isoformat(), zone) if last else ""
    return {
        "zone": str(zone),
        "not_invited": sum(
            p["invitation"]["state"] in ("manual", "scheduled") and p["status"] == "active"
            for p in people
        ),
    }


def _invitations_of(cycle_id: str, people: list[dict]) -> list[dict]:
    """The invitations of the people shown, not of the whole cycle: asked for a few dozen at a
    time, so each address stays short."""
    ids = [p["id"] for p in people]
    found: list[dict] = []
    for start in range(0, len(ids), INVITATIONS_ASKED):
        params = {"enrollment_id": ids[start : start + INVITATIONS_ASKED]}
        path = f"/api/cycles/{seg(cycle_id)}/invitations"
        found += fetch_or("notifications", path, [], params=params)
    return found


@bp.post("/cycles/<cycle_id>/invitations")
@staff_only
def invite_now(cycle_id: str) -> ResponseReturnValue:
    """Invite now the participants chosen, or everyone not invited yet."""
    cycle = staff_cycle(cycle_id)
    back = safe_next(request.form.get("next"), url_for(".participants", cycle=cycle_id))
    if request.form.get("who") == "all":
        found = fetch("notifications", f"/api/cycles/{seg(cycle_id)}/invitations")
        chosen = [i["enrollment_id"] for i in found if i["state"] != "invited"]
    else:
        chosen = request.form.getlist("enrollment_id")[:10_000]
    if not chosen:
        flash("Choose the participants to invite, or invite everyone not invited yet.")
        return redirect(back)
    reply = call(
        "enrollment",
        "POST",
        f"/api/cycles/{seg(cycle_id)}/invitations",
        json={"enrollment_ids": chosen, "mode": "now"},
    )
    refuse_if_forbidden(reply)
    if reply.ok:
        count = reply.body["scheduled"]
        flash(
            f"{count} participant{'s are' if count != 1 else ' is'} being invited now"
            f" (in {cycle['name']}); anyone invited already is not invited twice."
        )
    else:
        flash(reply.message)
    return redirect(back)
