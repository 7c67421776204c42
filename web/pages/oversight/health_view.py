"""Program health as the dashboard shows it: the service's answer turned into charts and rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...charts import column_chart, fraction, month_labels, share_line_chart
from ..me.labels import AREA_LABELS
from .common import percent


def _month_name(month: str) -> str:
    return dt.date.fromisoformat(f"{month}-01").strftime("%B %Y")


UNIT_WORDS = {"pair": ("pair", "pairs"), "group": ("group", "groups"),
              "family": ("family", "families")}  # fmt: skip


def units_phrase(units: dict[str, int]) -> str:
    """What the cycle's active relationships are, counted as they meet: "6 groups", "5 families",
    "30 pairs" (each kind the cycle has; "no active pairs" when none)."""
    parts = [
        f"{n} {UNIT_WORDS[kind][n != 1]}" for kind, n in units.items() if n and kind in UNIT_WORDS
    ]
    return ", ".join(parts) or "no active pairs"


def dashboard(health: dict[str, Any]) -> dict[str, Any]:
    """Charts and rows prepared for the template, from the service's health answer."""
    trends = health.get("trends", [])
    months = [
        {
            **t,
            "name": _month_name(t["month"]),
            "pairs_met": percent(t.get("pairs_met_share")),
            "confirmed": percent(t.get("confirmed_share")),
        }
        for t in trends
    ]
    labels = month_labels([t["month"] for t in trends])
    meetings_chart = column_chart(
        [
            (label, None if t["suppressed"] else t["meetings"])
            for label, t in zip(labels, trends, strict=True)
        ]
    )
    met_chart = share_line_chart(
        [
            (label, None if t["suppressed"] else t.get("pairs_met_share"))
            for label, t in zip(labels, trends, strict=True)
        ]
    )
    outcomes = health.get("mentor_outcomes", [])
    largest = max(
        (o["outcome"]["meetings_per_pair"] for o in outcomes if not o["outcome"]["suppressed"]),
        default=0,
    )
    mentors = [
        {
            "who": o.get("mentor_name") or f"Mentor {o['mentor_id']}",
            **o["outcome"],
            "bar": fraction(o["outcome"].get("meetings_per_pair"), largest),
        }
        for o in outcomes
    ]
    objectives = health.get("objectives", {})
    by_status = objectives.get("by_status", {}) if not objectives.get("suppressed") else {}
    most = max(by_status.values(), default=0)
    statuses = [
        {"label": s.replace("_", " ").capitalize(), "count": n, "bar": fraction(n, most)}
        for s, n in by_status.items()
    ]
    by_area = objectives.get("by_area", {}) if not objectives.get("suppressed") else {}
    widest = max(by_area.values(), default=0)
    areas = [
        {"label": AREA_LABELS.get(a, a), "count": n, "bar": fraction(n, widest)}
        for a, n in by_area.items()
        if n
    ]
    surveys = []
    for survey in health.get("surveys", []):
        rate = survey["response_rate"]
        surveys.append(
            {
                **survey,
                "due": survey["due_on"],
                "rate_shown": percent(rate.get("rate")),
                "likert": [
                    {
                        **item,
                        "bar": fraction(item["mean"].get("mean"), 5),
                    }
                    for item in survey["likert"]
                ],
            }
        )
    units = health.get("units") or {}
    return {
        "units_phrase": units_phrase(units),
        # "pairs" only where the cycle's relationships are pairs.
        "unit_word": next((UNIT_WORDS[k] for k, n in units.items() if n and k != "pair"), None)
        or UNIT_WORDS["pair"],
        "months": months,
        "meetings_chart": meetings_chart,
        "met_chart": met_chart,
        "mentors": mentors,
        "statuses": statuses,
        "areas": areas,
        "surveys": surveys,
        "percent": percent,
    }
