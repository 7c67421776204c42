"""Consortium admin pages: de-identified outcomes of every program."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from services.eventkit.contracts.feedback import LIKERT_POINTS

from ...calls import fetch, fetch_or, seg
from ...rendering import render
from ..blueprints import admin as bp
from .institutions import all_institutions


@bp.get("/outcomes")
def outcomes() -> ResponseReturnValue:
    data = fetch("feedback", "/api/outcomes")
    found = {row["institution_id"]: row for row in data["institutions"]}
    entries = []
    for institution in all_institutions():
        row = found.get(institution["id"])
        names: dict[str, str] = {}
        if row and row["programs"]:
            programs = fetch_or(
                "enrollment", f"/api/institutions/{seg(institution['id'])}/programs", []
            )
            names = {p["id"]: p["name"] for p in programs}
        entries.append({"institution": institution, "outcome": row, "program_names": names})
    return render(
        "admin/outcomes.html",
        entries=entries,
        min_people=data["min_people"],
        likert_points=LIKERT_POINTS,
    )
