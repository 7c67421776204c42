"""Coordinator pages: programs and cycles, roster import, participants."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("coord", __name__, url_prefix="/coordinator")
