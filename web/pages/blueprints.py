"""The blueprint of each area of pages: its name (the first part of its endpoints) and where its
addresses start. The modules of an area add their routes to it."""

from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from services.eventkit.auth import ADMIN

from ..identity import current_user, forbidden

me = Blueprint("me", __name__, url_prefix="/me")
coord = Blueprint("coord", __name__, url_prefix="/coordinator")
pairing = Blueprint("pairing", __name__, url_prefix="/coordinator")
oversight = Blueprint("oversight", __name__, url_prefix="/coordinator")
admin = Blueprint("admin", __name__, url_prefix="/admin")

ALL = (me, coord, pairing, oversight, admin)


@admin.before_request
def consortium_admin_only() -> ResponseReturnValue | None:
    """Only the consortium admin (the role held consortium-wide, not at one institution)."""
    user = current_user()
    if user is None or not any(g.role == ADMIN and g.institution_id is None for g in user.grants):
        return forbidden()
    return None
