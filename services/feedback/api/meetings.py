"""A pair's (or coaching group's) meetings, and the caller's own pairs: members log and confirm
meetings; members and the coordinators of the cycle's program read them."""

from __future__ import annotations

import dataclasses

from flask_smorest import Blueprint

from services.eventkit.access import guard, visible
from services.eventkit.http import principal, runtime

from ..app import meetings
from ..readmodels import meetings as held
from ..readmodels import roster
from . import access
from .context import work
from .schemas import MeetingIn, MeetingOut, RelationshipOut

blp = Blueprint("meetings", __name__, url_prefix="/api", description="Pairs and their meetings")


@blp.route("/me/pairs", methods=["GET"])
@guard("own.read", rows="pair.read")
@blp.response(200, RelationshipOut(many=True))
def my_pairs():
    """The caller's pairs and groups, in every cycle."""
    with runtime().reading() as conn:
        found = roster.relationships_of(conn, principal().user_id)
        mine = visible("pair.read", found, lambda x: access.pair_of(*x))
        return [
            {**dataclasses.asdict(rel), "names": roster.names(conn, set(rel.members))}
            for rel, _ in mine
        ]


@blp.route("/pairs/<pair_id>/meetings", methods=["POST"])
@guard("pair.take_part", access.pair)
@blp.arguments(MeetingIn)
@blp.response(201, MeetingOut)
def log_meeting(data, pair_id):
    """A member logs a meeting (not dated in the future nor before the pair existed)."""
    with work() as uow:
        meeting_id = meetings.log(uow, pair_id, principal().user_id, **data)
        return held.meeting(uow.conn, meeting_id)


@blp.route("/pairs/<pair_id>/meetings", methods=["GET"])
@guard("pair.read", access.pair)
@blp.response(200, MeetingOut(many=True))
def list_meetings(pair_id):
    with runtime().reading() as conn:
        return held.of_pair(conn, pair_id)


@blp.route("/meetings/<meeting_id>", methods=["GET"])
@guard("pair.read", access.meeting)
@blp.response(200, MeetingOut)
def get_meeting(meeting_id):
    with runtime().reading() as conn:
        return held.meeting(conn, meeting_id)


@blp.route("/meetings/<meeting_id>/confirm", methods=["POST"])
@guard("pair.take_part", access.meeting)
@blp.response(200, MeetingOut)
def confirm_meeting(meeting_id):
    """The other member confirms the meeting took place."""
    with work() as uow:
        meetings.confirm(uow, meeting_id, principal().user_id)
        return held.meeting(uow.conn, meeting_id)
