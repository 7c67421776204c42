"""Enrollment's HTTP API (OpenAPI from the marshmallow schemas in `schemas`)."""

from __future__ import annotations


def blueprints():
    from .directory import blp as directory
    from .enrollments import blp as enrollments
    from .erasure import blp as erasure
    from .people import blp as people
    from .roster_import import blp as roster
    from .trail import blp as trail

    return [directory, people, enrollments, roster, trail, erasure]
