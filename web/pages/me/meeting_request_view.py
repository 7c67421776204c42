"""What the meetings page shows of meetings on request: each pair's upcoming meetings, the
requests waiting for an answer, the last ones declined or cancelled, and the times to offer
(from both availability grids, on the institution's clock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from ...calls import fetch_or
from ..blueprints import me as bp
from .participation import Pair


def local(iso: str, time_zone: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(ZoneInfo(time_zone))


@bp.app_template_filter("meeting_time")
def meeting_time(iso: str, time_zone: str = "UTC") -> str:
    """'Wednesday 11 March 2026, 14:00' on the institution's clock."""
    when = local(iso, time_zone)
    return f"{when:%A} {when.day} {when:%B %Y, %H:%M}"


def may_ask(pair: Pair) -> bool:
    """Any member of an active pair; in a group, its coach."""
    return pair.active and (pair.kind == "pair" or pair.my_role == "mentor")


def requests_context(pairs: Iterable[Pair]) -> dict[str, Any]:
    """What the meetings page shows of each pair's requests, and the times it offers."""
    requests, suggested = {}, {}
    now = dt.datetime.now(dt.UTC).isoformat()
    for p in pairs:
        found = fetch_or("feedback", f"/api/pairs/{p.pair_id}/meeting-requests", [])
        requests[p.pair_id] = {
            "upcoming": sorted(
                (r for r in found if r["status"] == "scheduled" and r["ends_at"] >= now),
                key=lambda r: r["starts_at"],
            ),
            "pending": [r for r in found if r["status"] == "pending"],
            "answered": [r for r in found if r["status"] in ("declined", "cancelled")][:3],
        }
        if may_ask(p):
            offered = fetch_or("feedback", f"/api/pairs/{p.pair_id}/meeting-times", None)
            suggested[p.pair_id] = offered or {"time_zone": "UTC", "times": []}
    return {"requests": requests, "suggested": suggested, "may_ask": may_ask}
