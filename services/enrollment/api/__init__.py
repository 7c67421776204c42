"""Enrollment's HTTP API, one module per capability (OpenAPI from the marshmallow schemas in
`schemas`). The modules import what they need from each other, never from this package."""

from __future__ import annotations


def blueprints():
    from .directory import blp as directory
    from .enrollments import blp as enrollments
    from .erasure import blp as erasure
    from .participants import blp as participants
    from .people import blp as people
    from .roles import blp as roles
    from .roster_import import blp as roster
    from .trail import blp as trail

    return [directory, people, roles, enrollments, participants, roster, trail, erasure]
