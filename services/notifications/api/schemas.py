"""What notifications' API takes and answers."""

from __future__ import annotations

import datetime as dt

import marshmallow as ma

from ..domain import messages
from ..domain.notification import FAILED, KEPT, QUEUED, SENT
from ..domain.preferences import refusal


class NotificationOut(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    subject = ma.fields.String()
    body = ma.fields.String()
    created_at = ma.fields.String()
    read = ma.fields.Boolean()


class PreferencesIn(ma.Schema):
    preferences = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True)

    @ma.validates_schema
    def _allowed(self, data, **kwargs) -> None:
        errors = {
            kind: [refused]
            for kind, channel in data["preferences"].items()
            if (refused := refusal(kind, channel))
        }
        if errors:
            raise ma.ValidationError({"preferences": errors})


class PreferencesOut(ma.Schema):
    person_id = ma.fields.String()
    preferences = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    mandatory = ma.fields.List(ma.fields.String())


class UtcDateTime(ma.fields.DateTime):
    """Timestamps are stored in UTC, but SQLite returns them without an offset: say it is UTC."""

    def _serialize(self, value: dt.datetime | None, attr, obj, **kwargs):
        if value is not None:
            value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value
            value = value.astimezone(dt.UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class DeliveryOut(ma.Schema):
    notification_id = ma.fields.String()
    channel = ma.fields.String()
    recipient_id = ma.fields.String()
    kind = ma.fields.String()
    to_address = ma.fields.String()
    state = ma.fields.String()
    attempts = ma.fields.Integer()
    last_error = ma.fields.String(allow_none=True)
    next_attempt_at = UtcDateTime(allow_none=True)
    finished_at = UtcDateTime(allow_none=True)


class DeliveryQuery(ma.Schema):
    state = ma.fields.String(
        load_default=None, validate=ma.validate.OneOf([QUEUED, SENT, KEPT, FAILED])
    )


class LocalMailOut(ma.Schema):
    id = ma.fields.String()
    recipient_id = ma.fields.String()
    to_address = ma.fields.String()
    subject = ma.fields.String()
    text_body = ma.fields.String()
    html_body = ma.fields.String()
    kept_at = UtcDateTime()


class ContactOut(ma.Schema):
    pair_id = ma.fields.String()
    person_id = ma.fields.String()
    name = ma.fields.String()
    email = ma.fields.String()


class AccountLinkIn(ma.Schema):
    kind = ma.fields.String(
        required=True, validate=ma.validate.OneOf(sorted(messages.ACCOUNT_LINKS))
    )
    url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    email = ma.fields.Email(required=True)
    # Who the person is, as the web read it from enrollment: used when this service has not
    # yet heard of the person (someone registered moments ago).
    name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    institution_id = ma.fields.String(load_default=None, allow_none=True)
    valid_hours = ma.fields.Integer(
        load_default=None, allow_none=True, validate=ma.validate.Range(min=1, max=24 * 30)
    )


class AccountLinkOut(ma.Schema):
    notification_id = ma.fields.String()
    state = ma.fields.String()
