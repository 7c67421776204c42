"""Notifications' HTTP API."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask import abort
from flask_smorest import Blueprint

from services.eventkit.http import principal, runtime

from . import readmodels as rm

blp = Blueprint("notifications", __name__, url_prefix="/api", description="Notifications")


class NotificationOut(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    subject = ma.fields.String()
    body = ma.fields.String()
    created_at = ma.fields.String()
    read = ma.fields.Boolean()


@blp.route("/people/<person_id>/notifications", methods=["GET"])
@blp.response(200, NotificationOut(many=True))
def inbox(person_id):
    """A person's in-app notifications, newest first: visible to that person only."""
    if principal().user_id != person_id:
        abort(403, description="You can read only your own notifications.")
    n = rm.notifications
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(n).where(n.c.recipient_id == person_id).order_by(n.c.created_at.desc())
            )
            .mappings()
            .all()
        )
