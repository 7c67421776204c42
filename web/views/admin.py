"""Consortium admin pages: institutions, coordinators, de-identified outcomes, audit trail."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
