"""A person's in-app inbox."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import request_meta, runtime

from ..app import inbox
from ..app.unit_of_work import UnitOfWork
from ..readmodels.tables import notifications
from .access import person
from .schemas import NotificationOut

blp = Blueprint("inbox", __name__, url_prefix="/api", description="In-app notifications")


@blp.route("/people/<person_id>/notifications", methods=["GET"])
@guard("person.inbox", person)
@blp.response(200, NotificationOut(many=True))
def list_notifications(person_id):
    """A person's in-app notifications, newest first: visible to that person only."""
    n = notifications
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(n).where(n.c.recipient_id == person_id).order_by(n.c.created_at.desc())
            )
            .mappings()
            .all()
        )


@blp.route("/people/<person_id>/notifications/<notification_id>/read", methods=["POST"])
@guard("person.inbox", person)
@blp.response(200, NotificationOut)
def mark_read(person_id, notification_id):
    """Mark one of your notifications read (again is harmless)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        inbox.mark_read(UnitOfWork(conn, rt.store), person_id, notification_id, request_meta(None))
        n = notifications
        return conn.execute(sa.select(n).where(n.c.id == notification_id)).mappings().one()
