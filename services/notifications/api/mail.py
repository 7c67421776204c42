"""Mail to an institution's people and how it went, and the local outbox."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import consortium, guard
from services.eventkit.http import runtime

from ..readmodels.tables import deliveries, local_mail
from .access import institution
from .schemas import DeliveryOut, DeliveryQuery, LocalMailOut

blp = Blueprint("mail", __name__, url_prefix="/api", description="Email deliveries")


@blp.route("/institutions/<institution_id>/deliveries", methods=["GET"])
@guard("institution.deliveries", institution)
@blp.arguments(DeliveryQuery, location="query")
@blp.response(200, DeliveryOut(many=True))
def list_deliveries(query, institution_id):
    """Mail to the institution's people and how it went (`?state=failed` for what never arrived):
    for its coordinators and the consortium admin."""
    d = deliveries
    select = sa.select(d).where(d.c.institution_id == institution_id)
    if query["state"]:
        select = select.where(d.c.state == query["state"])
    with runtime().reading() as conn:
        return conn.execute(select.order_by(d.c.created_at.desc()).limit(500)).mappings().all()


@blp.route("/local-mail", methods=["GET"])
@guard("consortium.operate", consortium)
@blp.response(200, LocalMailOut(many=True))
def local_outbox():
    """Mail kept locally because no SMTP server is configured, newest first: consortium admin."""
    m = local_mail
    with runtime().reading() as conn:
        return conn.execute(sa.select(m).order_by(m.c.kept_at.desc()).limit(500)).mappings().all()
