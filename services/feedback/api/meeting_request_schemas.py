"""What feedback's API takes and answers about meetings on request. Times in are ISO 8601; one
without an offset is the institution's local time. Times out are UTC, with the time zone."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from services.eventkit.contracts.meeting_requests import MAX_OPTIONS, REQUEST_MODES

F = ma.fields


class MeetingRequestIn(ma.Schema):
    options = F.List(
        F.DateTime(),
        required=True,
        validate=validate.Length(min=1, max=MAX_OPTIONS, error=f"Offer 1 to {MAX_OPTIONS} times."),
    )
    duration_minutes = F.Integer(load_default=60, validate=validate.Range(min=5, max=600))
    mode = F.String(required=True, validate=validate.OneOf(REQUEST_MODES))
    place = F.String(load_default="", validate=validate.Length(max=500))
    note = F.String(load_default="", validate=validate.Length(max=2000))


class AcceptIn(ma.Schema):
    starts_at = F.DateTime(required=True)


class DeclineIn(ma.Schema):
    note = F.String(load_default="", validate=validate.Length(max=2000))


class MeetingRequestOut(ma.Schema):
    request_id = F.String()
    pair_id = F.String()
    cycle_id = F.String()
    requested_by = F.String()
    attendees = F.List(F.String())
    options = F.List(F.String())
    duration_minutes = F.Integer()
    mode = F.String()
    place = F.String()
    note = F.String()
    time_zone = F.String()
    status = F.String()
    starts_at = F.String(allow_none=True)
    ends_at = F.String(allow_none=True)
    sequence = F.Integer()
    answered_by = F.String(allow_none=True)
    answer_note = F.String()
    requested_at = F.String()
    updated_at = F.String()


class SuggestedTimesOut(ma.Schema):
    time_zone = F.String()
    times = F.List(F.String())  # local ISO 8601 times with their offset
