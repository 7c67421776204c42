"""Who of a cycle has been invited, and who is still to be."""

from __future__ import annotations

import marshmallow as ma
from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import runtime

from ..readmodels import invitations
from .access import cycle
from .schemas import UtcDateTime

blp = Blueprint("invitations", __name__, url_prefix="/api", description="Invitations")


# A page of a roster asks for its people's invitations: at most this many per request.
MAX_ASKED = 100


class InvitationQuery(ma.Schema):
    enrollment_id = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=36)),
        load_default=list,
        validate=ma.validate.Length(max=MAX_ASKED),
        metadata={"description": f"only these enrollments' invitations (at most {MAX_ASKED})"},
    )


class InvitationOut(ma.Schema):
    enrollment_id = ma.fields.String()
    person_id = ma.fields.String()
    role = ma.fields.String()
    mode = ma.fields.String(metadata={"description": "now, at or manual"})
    state = ma.fields.String(metadata={"description": "invited, scheduled or manual"})
    send_at = UtcDateTime(allow_none=True)
    invited_at = UtcDateTime(allow_none=True)


@blp.route("/cycles/<cycle_id>/invitations", methods=["GET"])
@guard("cycle.roster", cycle)
@blp.arguments(InvitationQuery, location="query")
@blp.response(200, InvitationOut(many=True))
def list_invitations(query, cycle_id):
    """Each participant's invitation: invited (when), scheduled (for when), or left for the
    coordinator to send (manual); every one of the cycle, or those of the enrollments named."""
    with runtime().reading() as conn:
        return invitations.of_cycle(conn, cycle_id, query["enrollment_id"] or None)
