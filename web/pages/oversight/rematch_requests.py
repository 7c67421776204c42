"""Rematch requests as the coordinators' concerns inbox lists them: the active pairs of the
cycles they coordinate in which a member asked for a new match, with who asked and why."""

from __future__ import annotations

from typing import Any

from ...calls import fetch_or, staff_institutions
from .common import coordinates
from .surveys import cycles_of


def rematch_requests() -> list[dict[str, Any]]:
    found = []
    for institution in staff_institutions():
        for cycle in cycles_of(institution["id"]):
            if not coordinates(cycle):
                continue  # the consortium admin reads concerns only once escalated
            for pair in fetch_or("pairing", f"/api/cycles/{cycle['id']}/pairs", []):
                asked = pair.get("rematch_requested_by")
                if not asked or pair["status"] != "active":
                    continue
                by_mentee = asked == pair["mentee_id"]
                found.append(
                    {
                        **pair,
                        "cycle": cycle,
                        "asked_by": pair["mentee_name"] if by_mentee else pair["mentor_name"],
                        "asked_role": "mentee" if by_mentee else "mentor",
                    }
                )
    return found
