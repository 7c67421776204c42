"""Consortium admin pages: institutions.

Only the consortium admin (the role held consortium-wide, not at one institution) reaches the
admin pages; the services check the same again on every call.
"""

from __future__ import annotations

import zoneinfo

from flask import Response, abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from ...calls import call, fetch
from ...rendering import render
from ..blueprints import admin as bp
from ..forms import FormState

# Zones people pick from: the canonical Area/City names (and UTC), not legacy aliases.
LEGACY_ZONE_AREAS = {"Etc", "SystemV", "US", "posix", "right"}
TIME_ZONES = [
    *sorted(
        z
        for z in zoneinfo.available_timezones()
        if "/" in z and z.split("/")[0] not in LEGACY_ZONE_AREAS
    ),
    "UTC",
]
MAX_SHORT_CODE = 20  # as the enrollment service allows


def all_institutions() -> list[dict]:
    return fetch("enrollment", "/api/institutions")


@bp.get("/institutions")
def institutions() -> ResponseReturnValue:
    return _institutions_page()


def _institutions_page(status: int = 200, form: FormState | None = None) -> Response:
    return render(
        "admin/institutions.html",
        status=status,
        institutions=all_institutions(),
        form=form or FormState(),
        time_zones={zone: zone.replace("_", " ") for zone in TIME_ZONES},
    )


@bp.post("/institutions")
def create_institution() -> ResponseReturnValue:
    values = {k: request.form.get(k, "").strip() for k in ("name", "short_code", "time_zone")}
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Enter the institution's name."
    if not values["short_code"]:
        errors["short_code"] = "Enter a short code, such as NUH."
    elif len(values["short_code"]) > MAX_SHORT_CODE:
        errors["short_code"] = f"Use at most {MAX_SHORT_CODE} letters or digits."
    if values["time_zone"] not in TIME_ZONES:
        errors["time_zone"] = "Choose the institution's time zone."
    message = ""
    if not errors:
        reply = call("enrollment", "POST", "/api/institutions", json=values)
        if reply.ok:
            added = reply.body
            flash(f"{added['name']} ({added['short_code']}) added. Next, appoint its coordinator.")
            return redirect(url_for(".coordinators", institution=added["id"]))
        if reply.status == 403:
            abort(403)
        errors = reply.form_errors()
        message = "" if errors else reply.message
    return _institutions_page(422, FormState(values, errors, message))
