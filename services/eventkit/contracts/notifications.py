"""Events on tandem.notifications.v1."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ..personal import Personal
from ..registry import Registry

registry = Registry()

F = ma.fields

# What a person may choose per notification kind: each email at once, the in-app inbox only,
# or collected into a daily ("digest") or weekly digest email.
CHANNELS = ("email", "in_app", "digest", "weekly")
DIGESTS = ("digest", "weekly")
TRANSPORTS = ("smtp", "local")  # sent over SMTP, or kept in the local mail outbox


def _queued_v1_to_v2(payload: dict) -> dict:
    # Version 1 notifications lived only in the in-app inbox.
    return {**payload, "html": "", "email": "", "channels": ["in_app"]}


# What a person is told, and where, is theirs: sealed under the recipient's key.
@registry.event(
    "NotificationQueued",
    version=2,
    upcasters={1: _queued_v1_to_v2},
    personal=Personal("recipient_id", ("subject", "body", "html", "email", "calendar")),
)
class NotificationQueued(ma.Schema):
    """What one person is told about one event, rendered once, with the channels chosen then.

    A message carrying a secret (a one-time password link) has it only in the email sent: here
    `body` and `html` say where the link went, never the link itself."""

    notification_id = F.String(required=True)
    recipient_id = F.String(required=True)
    kind = F.String(required=True)
    subject = F.String(required=True)
    body = F.String(required=True)  # plain text
    html = F.String(load_default="")
    email = F.String(load_default="")  # the address at the time it was queued
    channels = F.List(F.String(validate=validate.OneOf(CHANNELS)), load_default=list)
    source_event_id = F.String(required=True)
    # An iCalendar object the email carries as an invitation (.ics), when there is one.
    calendar = F.String(load_default="")


@registry.event("NotificationSent")
class NotificationSent(ma.Schema):
    notification_id = F.String(required=True)
    recipient_id = F.String(required=True)
    channel = F.String(required=True)
    transport = F.String(required=True, validate=validate.OneOf(TRANSPORTS))
    attempts = F.Integer(required=True)


@registry.event("NotificationFailed")
class NotificationFailed(ma.Schema):
    """Given up: a permanent refusal, or every attempt used. Visible to coordinators."""

    notification_id = F.String(required=True)
    recipient_id = F.String(required=True)
    channel = F.String(required=True)
    attempts = F.Integer(required=True)
    permanent = F.Boolean(required=True)
    error = F.String(required=True)


@registry.event("NotificationRead")
class NotificationRead(ma.Schema):
    notification_id = F.String(required=True)
    recipient_id = F.String(required=True)


@registry.event("NotificationPreferencesSet")
class NotificationPreferencesSet(ma.Schema):
    """The kinds whose channel the person changed, each with the channel now chosen."""

    person_id = F.String(required=True)
    preferences = F.Dict(
        keys=F.String(), values=F.String(validate=validate.OneOf(CHANNELS)), required=True
    )


def _digest_v1_to_v2(payload: dict) -> dict:
    # Version 1 digests were all daily.
    return {**payload, "channel": "digest"}


@registry.event("DigestSent", version=2, upcasters={1: _digest_v1_to_v2})
class DigestSent(ma.Schema):
    """One person's daily or weekly digest: the notifications it collected, sent or kept once."""

    digest_id = F.String(required=True)
    recipient_id = F.String(required=True)
    channel = F.String(required=True, validate=validate.OneOf(DIGESTS))
    notification_ids = F.List(F.String(), required=True)
    transport = F.String(required=True, validate=validate.OneOf(TRANSPORTS))
    to_address = F.String(required=True)
    subject = F.String(required=True)
    body = F.String(required=True)
    html = F.String(required=True)
