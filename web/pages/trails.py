"""The audit trail pages: a coordinator's institutions (or program), and the consortium admin's
whole trail, each with its CSV export (all rendered by web/audit.py)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from services.eventkit.auth import COORDINATOR

from .. import audit as trail
from ..identity import roles_required
from . import blueprints


@blueprints.oversight.get("/audit", endpoint="audit")
@roles_required(COORDINATOR)
def coordinator_audit() -> ResponseReturnValue:
    """Everything recorded for the user's institutions or program, from every service."""
    return trail.coordinator_page()


@blueprints.admin.get("/audit", endpoint="audit")
def admin_audit() -> ResponseReturnValue:
    return trail.admin_page()


@blueprints.oversight.get("/audit.csv", endpoint="audit_csv")
@roles_required(COORDINATOR)
def coordinator_audit_csv() -> ResponseReturnValue:
    """The same entries as CSV; enrollment records the export."""
    return trail.coordinator_csv()


@blueprints.admin.get("/audit.csv", endpoint="audit_csv")
def admin_audit_csv() -> ResponseReturnValue:
    return trail.admin_csv()
