"""Enrollments: joining a cycle, the matching profile, ranking, conflicts, withdrawal."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import authorize, guard, people
from services.eventkit.conditional import revalidate
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Resource
from services.eventkit.unit_of_work import UnitOfWork

from .. import readmodels as rm
from ..app import enrollments
from ..domain.invitation import Invitation, invitation_of
from ..readmodels.lookups import enrollment_view
from .access import cycle, cycle_of, enrollment, row
from .schemas import (
    ConflictIn,
    ConflictOut,
    EnrollmentIn,
    EnrollmentOut,
    EnrollmentQuery,
    InvitationsIn,
    InvitationsOut,
    MenteeRankingIn,
    ProfileFields,
    RankingIn,
    WithdrawIn,
)

blp = Blueprint("enrollments", __name__, url_prefix="/api", description="Enrollments")

PROFILE_KEYS = tuple(ProfileFields().fields)


def _changed(change, enrollment_id: str, *args):
    """Apply an enrollment use case and return the enrollment as it now is."""
    rt = runtime()
    with rt.engine.begin() as conn:
        change(UnitOfWork(conn, rt.store), enrollment_id, *args, request_meta(None))
        return enrollment_view(conn, enrollment_id)


@blp.route("/cycles/<cycle_id>/enrollments", methods=["POST"])
@guard("enrollment.create")
@blp.arguments(EnrollmentIn)
@blp.response(201, EnrollmentOut)
def enroll(data, cycle_id):
    """Enroll a person as mentor or mentee (a coordinator, or the person themself)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        scope = cycle_of(row(conn, rm.cycles, cycle_id, "cycle"))
        authorize(Resource(scope.institution_id, scope.program_id, people(data["person_id"])))
        profile = {k: data[k] for k in PROFILE_KEYS if k in data}
        enrollment_id = enrollments.enroll(
            UnitOfWork(conn, rt.store), cycle_id, data["person_id"], data["role"], profile,
            data["accept_guidelines"], request_meta(None), invitation_of(data["invitation"]),
        )  # fmt: skip
        return enrollment_view(conn, enrollment_id)


@blp.route("/cycles/<cycle_id>/enrollments", methods=["GET"])
@guard("cycle.roster", cycle)
@blp.etag
@blp.arguments(EnrollmentQuery, location="query")
@blp.response(200, EnrollmentOut(many=True))
def list_enrollments(query, cycle_id):
    """The cycle's roster for coordinators; filter by role, status, or a name search."""
    e, p = rm.enrollments, rm.people
    with runtime().reading() as conn:
        revalidate(blp, conn, reads=["directory"])  # not the audit trail: others' events
        select = (
            sa.select(e, p.c.name, p.c.training_level)
            .join(p, p.c.id == e.c.person_id)
            .where(e.c.cycle_id == cycle_id)
        )
        if "role" in query:
            select = select.where(e.c.role == query["role"])
        if "status" in query:
            select = select.where(e.c.status == query["status"])
        if query["q"]:
            select = select.where(sa.func.lower(p.c.name).like(f"%{query['q'].lower()}%"))
        return conn.execute(select.order_by(e.c.role, p.c.name)).mappings().all()


@blp.route("/cycles/<cycle_id>/mentors", methods=["GET"])
@guard("cycle.read", cycle)
@blp.response(200, EnrollmentOut(many=True))
def list_mentors(cycle_id):
    """Active mentors a mentee of this cycle can rank (no contact details)."""
    e, p = rm.enrollments, rm.people
    with runtime().reading() as conn:
        rows = conn.execute(
            sa.select(e.c.id, e.c.cycle_id, e.c.person_id, e.c.role, e.c.interests, e.c.languages,
                      e.c.meeting_mode, e.c.capacity, p.c.name, p.c.training_level)
            .join(p, p.c.id == e.c.person_id)
            .where(e.c.cycle_id == cycle_id, e.c.role == "mentor", e.c.status == "active")
            .order_by(p.c.name)
        ).mappings().all()  # fmt: skip
        return rows


@blp.route("/enrollments/<enrollment_id>", methods=["GET"])
@guard("enrollment.read", enrollment)
@blp.response(200, EnrollmentOut)
def get_enrollment(enrollment_id):
    with runtime().reading() as conn:
        return enrollment_view(conn, enrollment_id)


@blp.route("/enrollments/<enrollment_id>", methods=["PATCH"])
@guard("enrollment.update", enrollment)
@blp.arguments(ProfileFields)
@blp.response(200, EnrollmentOut)
def update_profile(data, enrollment_id):
    return _changed(enrollments.update_profile, enrollment_id, data)


@blp.route("/enrollments/<enrollment_id>/ranking", methods=["PUT"])
@guard("enrollment.update", enrollment)
@blp.arguments(RankingIn)
@blp.response(200, EnrollmentOut)
def rank_mentors(data, enrollment_id):
    """A mentee's mentors in order of interest, best first (replaces the earlier ranking)."""
    return _changed(enrollments.rank_mentors, enrollment_id, data["mentor_enrollment_ids"])


@blp.route("/enrollments/<enrollment_id>/mentee-ranking", methods=["PUT"])
@guard("enrollment.update", enrollment)
@blp.arguments(MenteeRankingIn)
@blp.response(200, EnrollmentOut)
def rank_mentees(data, enrollment_id):
    """A mentor's mentees in order of preference, best first, and those they would not accept
    (replaces the earlier ranking). Stable matching uses it before scores."""
    return _changed(
        enrollments.rank_mentees, enrollment_id, data["mentee_enrollment_ids"],
        data["not_acceptable_enrollment_ids"],
    )  # fmt: skip


@blp.route("/enrollments/<enrollment_id>/conflicts", methods=["GET"])
@guard("enrollment.read", enrollment)
@blp.response(200, ConflictOut(many=True))
def list_conflicts(enrollment_id):
    with runtime().reading() as conn:
        c = rm.conflicts
        return (
            conn.execute(
                sa.select(c.c.other_person_id, c.c.kind).where(c.c.enrollment_id == enrollment_id)
            )
            .mappings()
            .all()
        )


@blp.route("/enrollments/<enrollment_id>/conflicts", methods=["POST"])
@guard("enrollment.update", enrollment)
@blp.arguments(ConflictIn)
@blp.response(200, EnrollmentOut)
def declare_conflict(data, enrollment_id):
    """Someone this participant must never be paired with (supervisor, assessor, …)."""
    return _changed(
        enrollments.declare_conflict, enrollment_id, data["other_person_id"], data["kind"]
    )


@blp.route("/enrollments/<enrollment_id>/conflicts/<other_person_id>", methods=["DELETE"])
@guard("enrollment.update", enrollment)
@blp.response(200, EnrollmentOut)
def remove_conflict(enrollment_id, other_person_id):
    return _changed(enrollments.remove_conflict, enrollment_id, other_person_id)


@blp.route("/enrollments/<enrollment_id>/guidelines-acceptance", methods=["POST"])
@guard("enrollment.update", enrollment)
@blp.response(200, EnrollmentOut)
def accept_guidelines(enrollment_id):
    return _changed(enrollments.accept_guidelines, enrollment_id)


@blp.route("/enrollments/<enrollment_id>/withdraw", methods=["POST"])
@guard("enrollment.update", enrollment)
@blp.arguments(WithdrawIn)
@blp.response(200, EnrollmentOut)
def withdraw(data, enrollment_id):
    return _changed(enrollments.withdraw, enrollment_id, data["reason"])


@blp.route("/enrollments/<enrollment_id>/reenroll", methods=["POST"])
@guard("enrollment.update", enrollment)
@blp.response(200, EnrollmentOut)
def reenroll(enrollment_id):
    return _changed(enrollments.reenroll, enrollment_id)


@blp.route("/cycles/<cycle_id>/invitations", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.arguments(InvitationsIn)
@blp.response(200, InvitationsOut)
def schedule_invitations(data, cycle_id):
    """Invite these participants now, at a time, or only when asked later (withdrawn ones are
    left out; anyone already invited is not invited again)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        scheduled = enrollments.schedule_invitations(
            UnitOfWork(conn, rt.store), cycle_id, data["enrollment_ids"],
            Invitation(data["mode"], data["invite_at"]), request_meta(None),
        )  # fmt: skip
    return {"scheduled": scheduled}
