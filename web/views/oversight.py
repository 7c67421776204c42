"""Coordinator pages for watching a program: health, concerns inbox, surveys, audit trail, exports."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("oversight", __name__, url_prefix="/coordinator")
