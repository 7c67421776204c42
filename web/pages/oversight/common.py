"""What the coordinator's oversight pages share: times as people read them, the cycle with its
program's name, who sees people's names, and the page for a cycle feedback has not heard of.

Every number comes from the feedback service, which suppresses any aggregate describing fewer
than 5 people and de-identifies what the consortium admin sees; these pages show what it says
and never work around it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import render_template
from flask.typing import ResponseReturnValue

from services.eventkit.policy import Resource, Who, matches

from ...calls import can, fetch, fetch_or
from ...charts import NO_VALUE
from ...identity import current_user

MIN_PEOPLE = 5  # the feedback service's suppression threshold, for the pages' explanations


def parse_time(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def when(value: str | None) -> str:
    """An event time as people read it: '3 Mar 2026, 14:05 UTC'."""
    if not value:
        return ""
    moment = parse_time(value)
    return f"{moment.day} {moment:%b %Y, %H:%M} UTC"


def age(value: str, now: dt.datetime) -> str:
    """How long ago: 'less than an hour', '5 hours', '3 days'."""
    hours = int((now - parse_time(value)).total_seconds() // 3600)
    if hours < 1:
        return "less than an hour"
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


def percent(share: float | None) -> str:
    return NO_VALUE if share is None else f"{round(share * 100)}%"


def cycle_with_program(cycle_id: str) -> dict[str, Any]:
    """The cycle and its program's name (403/404 pages when the caller may not see it)."""
    cycle = fetch("enrollment", f"/api/cycles/{cycle_id}")
    program = fetch_or("enrollment", f"/api/programs/{cycle['program_id']}", {})
    return {**cycle, "program_name": program.get("name", "")}


def consortium_admin() -> bool:
    return can("consortium.operate")


def coordinates(cycle: dict) -> bool:
    """Coordinators of the cycle's program see who; the admin sees de-identified health."""
    user = current_user()
    resource = Resource(cycle["institution_id"], cycle["program_id"])
    return user is not None and matches(Who.COORDINATOR, user.principal, resource)


class Names:
    """People's names by id, looked up once per page; an id stays an id when it cannot be."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, person_id: str | None) -> str:
        if not person_id:
            return ""
        if person_id not in self._known:
            person = fetch_or("enrollment", f"/api/people/{person_id}", {})
            self._known[person_id] = person.get("name") or f"Person {person_id[:8]}"
        return self._known[person_id]


def not_known_yet(cycle: dict[str, Any]) -> ResponseReturnValue:
    return (
        render_template(
            "error.html",
            title="No health data for this cycle yet",
            message=f"The feedback part of Tandem has not heard of the cycle “{cycle['name']}” "
            "yet. It learns about new cycles within a few seconds; reload this page shortly.",
        ),
        404,
    )
