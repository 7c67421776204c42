"""A pair's (or coaching group's) meetings, and the caller's own pairs: members log and confirm
meetings; members and the coordinators of the cycle's program read them."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import NotFound
from services.eventkit.access import guard, visible
from services.eventkit.db import one
from services.eventkit.http import principal, runtime

from .. import access, relationships
from .. import readmodels as rm
from ..app import meetings
from .context import work
from .schemas import MeetingIn, MeetingOut, RelationshipOut

blp = Blueprint("meetings", __name__, url_prefix="/api", description="Pairs and their meetings")


@blp.route("/me/pairs", methods=["GET"])
@guard("own.read", rows="pair.read")
@blp.response(200, RelationshipOut(many=True))
def my_pairs():
    """The caller's pairs and groups, in every cycle."""
    me = principal().user_id
    with runtime().reading() as conn:
        pair_rows = conn.execute(
            sa.select(rm.pairs.c.pair_id).where(
                sa.or_(rm.pairs.c.mentee_id == me, rm.pairs.c.mentor_id == me)
            )
        )
        ids = [r.pair_id for r in pair_rows]
        ids += [
            g.group_id
            for g in conn.execute(
                sa.select(rm.groups.c.group_id, rm.groups.c.coach_id, rm.groups.c.member_ids)
            )
            if g.coach_id == me or me in g.member_ids
        ]
        found = []
        for pair_id in ids:
            try:
                rel, cycle = relationships.relationship(conn, pair_id)
            except NotFound:
                continue  # its cycle has not arrived yet
            if rel.role_of(me) is not None:
                found.append((rel, cycle))
        mine = visible("pair.read", found, lambda x: access.pair_of(*x))
        return [
            {**dataclasses.asdict(rel), "names": relationships.names(conn, set(rel.members))}
            for rel, _ in mine
        ]


def _meeting_row(conn: sa.Connection, meeting_id: str) -> sa.RowMapping:
    return one(conn, rm.meetings, "meeting", meeting_id=meeting_id)


@blp.route("/pairs/<pair_id>/meetings", methods=["POST"])
@guard("pair.take_part", access.pair)
@blp.arguments(MeetingIn)
@blp.response(201, MeetingOut)
def log_meeting(data, pair_id):
    """A member logs a meeting (not dated in the future nor before the pair existed)."""
    with work() as uow:
        meeting_id = meetings.log(uow, pair_id, principal().user_id, **data)
        return _meeting_row(uow.conn, meeting_id)


@blp.route("/pairs/<pair_id>/meetings", methods=["GET"])
@guard("pair.read", access.pair)
@blp.response(200, MeetingOut(many=True))
def list_meetings(pair_id):
    with runtime().reading() as conn:
        m = rm.meetings
        return (
            conn.execute(sa.select(m).where(m.c.pair_id == pair_id).order_by(m.c.met_on.desc()))
            .mappings()
            .all()
        )


@blp.route("/meetings/<meeting_id>", methods=["GET"])
@guard("pair.read", access.meeting)
@blp.response(200, MeetingOut)
def get_meeting(meeting_id):
    with runtime().reading() as conn:
        return _meeting_row(conn, meeting_id)


@blp.route("/meetings/<meeting_id>/confirm", methods=["POST"])
@guard("pair.take_part", access.meeting)
@blp.response(200, MeetingOut)
def confirm_meeting(meeting_id):
    """The other member confirms the meeting took place."""
    with work() as uow:
        meetings.confirm(uow, meeting_id, principal().user_id)
        return _meeting_row(uow.conn, meeting_id)
