"""Events on tandem.feedback.v1 for meetings on request: a member proposes times, the other side
accepts one (or declines), and the meeting it sets is rescheduled or cancelled.

Every event of a scheduled meeting carries what a calendar needs on its own (start, end, place,
attendees, organizer and the calendar sequence), so a consumer can send an invitation, update or
cancellation without keeping state. Times are ISO 8601 in UTC; `time_zone` is the institution's.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

F = ma.fields

MAX_OPTIONS = 3
REQUEST_MODES = ("in_person", "virtual")


class _Request(ma.Schema):
    request_id = F.String(required=True)
    pair_id = F.String(required=True)  # a pair id, or a group id for group meetings
    cycle_id = F.String(required=True)


class MeetingRequested(_Request):
    """A member proposes one to three times to the other member(s) of their pair or group."""

    requested_by = F.String(required=True)
    attendees = F.List(F.String(), required=True)  # every member, the requester too
    options = F.List(
        F.String(), required=True, validate=validate.Length(min=1, max=MAX_OPTIONS)
    )  # ISO 8601 start times, UTC
    duration_minutes = F.Integer(required=True, validate=validate.Range(min=5, max=600))
    mode = F.String(required=True, validate=validate.OneOf(REQUEST_MODES))
    place = F.String(load_default="", validate=validate.Length(max=500))  # room or video link
    note = F.String(load_default="", validate=validate.Length(max=2000))
    time_zone = F.String(required=True)


class MeetingRequestDeclined(_Request):
    requested_by = F.String(required=True)  # who is told
    declined_by = F.String(required=True)
    note = F.String(load_default="", validate=validate.Length(max=2000))


class _Scheduled(_Request):
    organizer = F.String(required=True)  # who requested the meeting
    attendees = F.List(F.String(), required=True)
    starts_at = F.String(required=True)  # ISO 8601, UTC
    ends_at = F.String(required=True)
    mode = F.String(required=True, validate=validate.OneOf(REQUEST_MODES))
    place = F.String(load_default="", validate=validate.Length(max=500))
    note = F.String(load_default="", validate=validate.Length(max=2000))
    time_zone = F.String(required=True)
    sequence = F.Integer(required=True, validate=validate.Range(min=0))


class MeetingRequestAccepted(_Scheduled):
    """One of the times was accepted (in a group, set by the coach): the meeting is scheduled."""

    accepted_by = F.String(required=True)


class MeetingRescheduled(_Scheduled):
    rescheduled_by = F.String(required=True)


class MeetingRequestCancelled(_Scheduled):
    """A pending request withdrawn (sequence 0, never scheduled) or a scheduled meeting called
    off; `was_scheduled` says which."""

    cancelled_by = F.String(required=True)
    was_scheduled = F.Boolean(required=True)


EVENTS: dict[str, type[ma.Schema]] = {
    "MeetingRequested": MeetingRequested,
    "MeetingRequestDeclined": MeetingRequestDeclined,
    "MeetingRequestAccepted": MeetingRequestAccepted,
    "MeetingRescheduled": MeetingRescheduled,
    "MeetingRequestCancelled": MeetingRequestCancelled,
}
