"""Meetings on request: a member of a pair (a group's coach) proposes times, the other side
accepts one or declines, and either reschedules or cancels what was set; members and the
coordinators of the cycle's program read them."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.http import principal, runtime

from ..app import meeting_requests as requests
from ..readmodels import meeting_requests as held
from . import access
from .context import work
from .meeting_request_schemas import (
    AcceptIn,
    DeclineIn,
    MeetingRequestIn,
    MeetingRequestOut,
    SuggestedTimesOut,
)

blp = Blueprint("meeting_requests", __name__, url_prefix="/api", description="Meetings on request")


@blp.route("/pairs/<pair_id>/meeting-times", methods=["GET"])
@guard("pair.take_part", access.pair)
@blp.response(200, SuggestedTimesOut)
def suggested_times(pair_id):
    """Times to offer, from the members' availability, in the institution's time zone."""
    with work() as uow:
        zone, times = requests.suggested_times(uow, pair_id)
        return {"time_zone": zone, "times": [t.isoformat() for t in times]}


@blp.route("/pairs/<pair_id>/meeting-requests", methods=["POST"])
@guard("pair.take_part", access.pair)
@blp.arguments(MeetingRequestIn)
@blp.response(201, MeetingRequestOut)
def propose(data, pair_id):
    """A member (a group's coach) proposes one to three future times."""
    with work() as uow:
        request_id = requests.propose(uow, pair_id, principal().user_id, **data)
        return held.request(uow.conn, request_id)


@blp.route("/pairs/<pair_id>/meeting-requests", methods=["GET"])
@guard("pair.read", access.pair)
@blp.response(200, MeetingRequestOut(many=True))
def list_requests(pair_id):
    with runtime().reading() as conn:
        return held.of_pair(conn, pair_id)


@blp.route("/meeting-requests/<meeting_request_id>", methods=["GET"])
@guard("pair.read", access.meeting_request)
@blp.response(200, MeetingRequestOut)
def get_request(meeting_request_id):
    with runtime().reading() as conn:
        return held.request(conn, meeting_request_id)


@blp.route("/meeting-requests/<meeting_request_id>/accept", methods=["POST"])
@guard("pair.take_part", access.meeting_request)
@blp.arguments(AcceptIn)
@blp.response(200, MeetingRequestOut)
def accept(data, meeting_request_id):
    """The other member accepts one of the times (a group's coach sets it)."""
    with work() as uow:
        requests.accept(uow, meeting_request_id, principal().user_id, data["starts_at"])
        return held.request(uow.conn, meeting_request_id)


@blp.route("/meeting-requests/<meeting_request_id>/decline", methods=["POST"])
@guard("pair.take_part", access.meeting_request)
@blp.arguments(DeclineIn)
@blp.response(200, MeetingRequestOut)
def decline(data, meeting_request_id):
    with work() as uow:
        requests.decline(uow, meeting_request_id, principal().user_id, data["note"])
        return held.request(uow.conn, meeting_request_id)


@blp.route("/meeting-requests/<meeting_request_id>/reschedule", methods=["POST"])
@guard("pair.take_part", access.meeting_request)
@blp.arguments(AcceptIn)
@blp.response(200, MeetingRequestOut)
def reschedule(data, meeting_request_id):
    with work() as uow:
        requests.reschedule(uow, meeting_request_id, principal().user_id, data["starts_at"])
        return held.request(uow.conn, meeting_request_id)


@blp.route("/meeting-requests/<meeting_request_id>/cancel", methods=["POST"])
@guard("pair.take_part", access.meeting_request)
@blp.response(200, MeetingRequestOut)
def cancel(meeting_request_id):
    """Withdraw a pending request (who asked), or call off a scheduled meeting."""
    with work() as uow:
        requests.cancel(uow, meeting_request_id, principal().user_id)
        return held.request(uow.conn, meeting_request_id)
