"""The eligible-levels form of a cycle's pairing page: what it shows (the rules, the preview)
and the level rules a submitted form describes."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from services.eventkit.contracts.vocabulary import TRAINING_LEVELS

from ...calls import fetch_or

JUNIOR_PLACES = 3  # junior places a family form offers
LEVEL_FIELDS = ("mentee_levels", "mentor_levels", "senior_levels", "mid_levels")
FIELDS = (*LEVEL_FIELDS, "min_level_gap", "junior_slots", "format", "levels", "cycle_id")


def level_label(level: str) -> str:
    return level.replace("_", " ").capitalize() if level.islower() else level


def levels_context(cycle: dict[str, Any], view: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the levels section shows: the rules as a form, and the preview."""
    if view is None:
        view = fetch_or("pairing", f"/api/cycles/{cycle['id']}/level-rules", None)
    rules = (view or {}).get("rules") or {}
    is_set = bool(view and view.get("is_set"))
    slots = list(rules.get("junior_slots") or []) or ([] if is_set else _default_slots(cycle))
    form = {
        **{name: list(rules.get(name) or []) for name in LEVEL_FIELDS},
        "min_level_gap": rules.get("min_level_gap", 2),
        "slots": [*slots, *({"levels": [], "count": ""} for _ in range(JUNIOR_PLACES))][
            :JUNIOR_PLACES
        ],
    }
    if cycle.get("pairing_format") == "family" and not is_set:
        form["senior_levels"] = form["senior_levels"] or ["PGY4", "PGY5"]
        form["mid_levels"] = form["mid_levels"] or ["PGY3", "research_resident"]
    return {"levels": view, "levels_form": form, "training_levels": TRAINING_LEVELS,
            "level_label": level_label, "levels_errors": {}, "levels_message": "",
            "levels_status": ""}  # fmt: skip


def _default_slots(cycle: dict[str, Any]) -> list[dict[str, Any]]:
    if cycle.get("pairing_format") != "family":
        return []
    return [{"levels": ["PGY1"], "count": 1}, {"levels": ["PGY2"], "count": 1}]


def payload_of(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The level rules the form describes, and the fields it could not read."""
    errors: dict[str, str] = {}
    payload: dict[str, Any] = {name: form.getlist(name) for name in LEVEL_FIELDS}
    try:
        payload["min_level_gap"] = int((form.get("min_level_gap") or "").strip())
    except ValueError:
        errors["min_level_gap"] = "Enter a whole number of years from 0 to 10."
    slots = []
    for k in range(JUNIOR_PLACES):
        levels = form.getlist(f"slot{k}_levels")
        count = (form.get(f"slot{k}_count") or "").strip()
        if not levels and not count:
            continue
        try:
            slots.append({"levels": levels, "count": int(count)})
        except ValueError:
            errors["junior_slots"] = "Enter how many juniors of each place a family takes (1 to 8)."
    payload["junior_slots"] = slots
    return payload, errors


def form_back(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form as the coordinator left it, to show again."""
    back: dict[str, Any] = {name: form.getlist(name) for name in LEVEL_FIELDS}
    back["min_level_gap"] = form.get("min_level_gap", "")
    back["slots"] = [
        {"levels": form.getlist(f"slot{k}_levels"), "count": form.get(f"slot{k}_count", "")}
        for k in range(JUNIOR_PLACES)
    ]
    return back
