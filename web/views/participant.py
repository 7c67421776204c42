"""Mentor and mentee pages: profile, ranking or capacity, the pair, meetings, surveys, concerns, inbox, guidelines."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("me", __name__, url_prefix="/me")
