"""Coordinator pages for pairing a cycle: rules, runs with progress, review and edits, publish."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pairing", __name__, url_prefix="/coordinator")
