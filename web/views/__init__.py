"""The pages of each role, one blueprint per area."""

from __future__ import annotations

from flask import Flask

from . import admin, coordinator, oversight, pairing, participant


def register(app: Flask) -> None:
    for module in (participant, coordinator, pairing, oversight, admin):
        app.register_blueprint(module.bp)
