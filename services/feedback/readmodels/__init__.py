"""Feedback's read models, one module per what they hold, with their lookups.

`roster`: who takes part and who is paired, projected from enrollment's topic (through the event
kit's directory projection) and pairing's. From the service's own store: `meetings`,
`objectives` and `concerns` (together the `feedback_view` projection) and `surveys`
(`survey_view`). The tables whose names no module takes are named here too."""

from services.eventkit import Projection

from . import concerns, meetings, objectives, roster
from .concerns import concern_access, concern_actions
from .objectives import objective_history
from .roster import cycles, groups, pairs, participants, people, staff_roles
from .schema import kit, metadata
from .surveys import (
    survey_instances,
    survey_recipients,
    survey_response_history,
    survey_responses,
    survey_schedules,
    survey_templates,
    survey_view,
)

feedback_view = Projection(
    "feedback_view",
    tables=[
        meetings.meetings, objectives.objectives, objective_history, concerns.concerns,
        concern_access, concern_actions,
    ],
    handlers={**meetings.handlers, **objectives.handlers, **concerns.handlers},
)  # fmt: skip

__all__ = [
    "concern_access",
    "concern_actions",
    "concerns",
    "cycles",
    "feedback_view",
    "groups",
    "kit",
    "meetings",
    "metadata",
    "objective_history",
    "objectives",
    "pairs",
    "participants",
    "people",
    "roster",
    "staff_roles",
    "survey_instances",
    "survey_recipients",
    "survey_response_history",
    "survey_responses",
    "survey_schedules",
    "survey_templates",
    "survey_view",
]
