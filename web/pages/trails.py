"""The audit trail pages: a coordinator's institutions, and the consortium admin's whole trail
(both rendered by web/audit.py)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from services.eventkit.auth import COORDINATOR

from .. import audit as trail
from ..identity import roles_required
from . import blueprints


@blueprints.oversight.get("/audit", endpoint="audit")
@roles_required(COORDINATOR)
def coordinator_audit() -> ResponseReturnValue:
    """Everything recorded for the user's institutions, from every service."""
    return trail.coordinator_page()


@blueprints.admin.get("/audit", endpoint="audit")
def admin_audit() -> ResponseReturnValue:
    return trail.admin_page()
