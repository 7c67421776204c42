"""One-time password links, emailed for the web."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit.access import authorize, guard, people
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Resource

from ..app.account_links import send_account_link
from ..app.unit_of_work import UnitOfWork
from ..domain.notification import QUEUED
from .access import institution_of
from .schemas import AccountLinkIn, AccountLinkOut

blp = Blueprint("account_links", __name__, url_prefix="/api", description="Password links")


@blp.route("/people/<person_id>/account-links", methods=["POST"])
@guard("person.account_link")
@blp.arguments(AccountLinkIn)
@blp.response(202, AccountLinkOut)
def account_link(data, person_id):
    """Email a one-time set-password or reset link (mandatory, email only): the web only, as the
    system. The link is kept in the email being sent, never in an event."""
    # A scoped system token sends links only to people of its own institution.
    authorize(
        Resource(institution_of(person_id) or data["institution_id"], people=people(person_id))
    )
    rt = runtime()
    with rt.engine.begin() as conn:
        notification_id = send_account_link(
            UnitOfWork(conn, rt.store),
            person_id,
            data["kind"],
            data["url"],
            data["email"],
            data["valid_hours"],
            data["name"],
            data["institution_id"],
            request_meta(None),
        )
    return {"notification_id": notification_id, "state": QUEUED}
