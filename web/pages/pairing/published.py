"""A cycle's published pairs (or groups, families) a page at a time: those a member asked to
rematch first, then the other active ones, then the ended ones; found by a member's name.

A cycle of thousands of pairs stays a page a coordinator can read, and one the web renders fast."""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping
from typing import Any

from ...calls import fetch_or

PER_PAGE = 50


@dataclasses.dataclass
class Published:
    """Published pairs (`kind` "pair") or units (groups, families) of one cycle."""

    rows: list[dict[str, Any]]
    kind: str = "pair"
    page: int = 1
    q: str = ""
    focus: str | None = None  # a pair or unit that must be on the page shown (its form failed)

    per_page = PER_PAGE

    @staticmethod
    def row_id(row: Mapping[str, Any]) -> str:
        return row.get("pair_id") or row["unit_id"]

    @staticmethod
    def member_names(row: Mapping[str, Any]) -> list[str]:
        if "members" in row:
            return [m.get("name") or "" for m in row["members"]]
        return [row.get("mentee_name") or "", row.get("mentor_name") or ""]

    @functools.cached_property
    def ordered(self) -> list[dict[str, Any]]:
        """Rematch requests first (they wait on the coordinator), then active, then ended; in
        the service's order within each (pairs by mentor and mentee, units by their lead)."""
        rows = [_with_requester(row) for row in self.rows]
        if self.kind == "pair":
            rows.sort(key=lambda p: (p.get("mentor_name") or "", p.get("mentee_name") or ""))
        return sorted(
            rows,
            key=lambda r: (
                r["status"] != "active",
                not (r["status"] == "active" and r.get("rematch_requested_by")),
            ),
        )

    @functools.cached_property
    def matching(self) -> list[dict[str, Any]]:
        """The rows the search finds; every row while a focused row must be shown."""
        needle = self.q.strip().lower()
        if not needle or self.focus is not None:
            return self.ordered
        return [r for r in self.ordered if any(needle in n.lower() for n in self.member_names(r))]

    @property
    def active(self) -> int:
        return sum(1 for r in self.rows if r["status"] == "active")

    @property
    def rematch_asked(self) -> int:
        return sum(
            1 for r in self.rows if r["status"] == "active" and r.get("rematch_requested_by")
        )

    @property
    def pages(self) -> int:
        return max(1, math.ceil(len(self.matching) / PER_PAGE))

    @functools.cached_property
    def current_page(self) -> int:
        if self.focus is not None:
            for index, row in enumerate(self.matching):
                if self.row_id(row) == self.focus:
                    return index // PER_PAGE + 1
        return min(max(1, self.page), self.pages)

    @property
    def first_shown(self) -> int:
        return (self.current_page - 1) * PER_PAGE + 1

    @functools.cached_property
    def page_rows(self) -> list[dict[str, Any]]:
        start = (self.current_page - 1) * PER_PAGE
        return self.matching[start : start + PER_PAGE]


def _with_requester(row: dict[str, Any]) -> dict[str, Any]:
    """The row with the name of the member who asked for a rematch (always one of its own)."""
    asked = row.get("rematch_requested_by")
    if not asked:
        return row
    if "members" in row:
        names = {m["person_id"]: m.get("name") for m in row["members"]}
    else:
        names = {
            row.get("mentee_id"): row.get("mentee_name"),
            row.get("mentor_id"): row.get("mentor_name"),
        }
    return {**row, "rematch_by_name": names.get(asked)}


def load_published(
    cycle_id: str, noun: str, page: int = 1, q: str = "", focus: str | None = None
) -> Published:
    """The cycle's published pairs, or its groups or families (`noun` "group" or "family")."""
    if noun == "pair":
        rows = fetch_or("pairing", f"/api/cycles/{cycle_id}/pairs", [])
    else:
        rows = fetch_or("pairing", f"/api/cycles/{cycle_id}/units", [])
    return Published(rows, "pair" if noun == "pair" else "unit", page, q, focus)
