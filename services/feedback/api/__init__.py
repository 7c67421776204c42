"""Feedback's HTTP API, one module per capability (OpenAPI from the schemas in `schemas`).

Every route names its permission (`guard`) and the policy in `services.eventkit.policy` decides,
on the resource as `services.feedback.api.access` reads it from feedback's own read models: a pair
or group is its cycle's program with its members; a concern is its cycle's program, about its
raiser, every member of the pair a party who never handles it (concealed as 404 from whoever may
not read it); a survey instance is about the people it was issued to.
"""

from __future__ import annotations


def blueprints():
    from .concerns import blp as concerns
    from .health import blp as health
    from .meeting_requests import blp as meeting_requests
    from .meetings import blp as meetings
    from .objectives import blp as objectives
    from .survey_results import blp as survey_results
    from .surveys import blp as surveys

    return [meetings, meeting_requests, objectives, concerns, health, surveys, survey_results]
