"""Pairing's HTTP API, one module per capability (OpenAPI from the marshmallow schemas in
`schemas`): the candidate pool, eligible levels, runs and the proposal, published pairs, mentee choice."""

from __future__ import annotations


def blueprints():
    from .choice import blp as choice
    from .level_rules import blp as level_rules
    from .pairs import blp as pairs
    from .pool import blp as pool
    from .proposal import blp as proposal

    return [pool, level_rules, proposal, pairs, choice]
