"""Every page module, and their blueprints registered on the app. Importing a page module adds
its routes to its area's blueprint (blueprints.py)."""

from __future__ import annotations

from flask import Flask

from . import blueprints, trails
from .admin import coordinators, institutions, operations, outcomes
from .coord import objectives as pair_objectives
from .coord import participant, participants, programs, roster
from .me import (
    inbox,
    meeting_requests,
    meetings,
    objectives,
    pair,
    profile,
    ranking,
    surveys,
    taking_part,
)
from .oversight import concern_actions, concerns, health, survey_now, survey_templates
from .oversight import surveys as survey_schedules
from .pairing import choice, edits, levels, runs

PAGE_MODULES = (
    *(coordinators, institutions, operations, outcomes),
    *(pair_objectives, participant, participants, programs, roster),
    *(inbox, meeting_requests, meetings, objectives, pair, profile, ranking, surveys),
    taking_part,
    *(concern_actions, concerns, health, survey_now, survey_templates, survey_schedules),
    *(choice, edits, levels, runs),
    trails,
)


def register(app: Flask) -> None:
    for blueprint in blueprints.ALL:
        app.register_blueprint(blueprint)
