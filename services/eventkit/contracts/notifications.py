"""Events on tandem.notifications.v1."""

from __future__ import annotations

import marshmallow as ma

from ..registry import Registry

registry = Registry()


@registry.event("NotificationQueued")
class NotificationQueued(ma.Schema):
    notification_id = ma.fields.String(required=True)
    recipient_id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    subject = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    source_event_id = ma.fields.String(required=True)
