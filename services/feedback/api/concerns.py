"""Confidential concerns: a member raises one about their pair; the coordinators of the cycle's
program (or its whole institution) who are not a party read and handle it, and the consortium
admin once it is escalated; anyone else is told it does not exist. Every read of its content is
recorded (ConfidentialRecordViewed) before it is shown."""

from __future__ import annotations

from flask_smorest import Blueprint

from services.eventkit import ConcurrencyError
from services.eventkit.access import capacity, consortium, guard
from services.eventkit.http import principal, runtime

from ..app import concerns
from ..readmodels import concerns as raised
from . import access
from .context import clock, work
from .schemas import (
    AccessOut,
    ConcernActionOut,
    ConcernIn,
    ConcernOut,
    ConcernQuery,
    ConcernSummaryOut,
    FollowUpIn,
    ResolveIn,
)

blp = Blueprint("concerns", __name__, url_prefix="/api", description="Confidential concerns")


@blp.route("/pairs/<pair_id>/concerns", methods=["POST"])
@guard("pair.take_part", access.pair)
@blp.arguments(ConcernIn)
@blp.response(201, ConcernSummaryOut)
def raise_concern(data, pair_id):
    """A member raises a concern about their pair. Only coordinators of the program (or of its
    whole institution) who are not a party see it, never the other member; if a coordinator is a
    party, it goes to the consortium admin at once."""
    with work() as uow:
        concern_id = concerns.raise_concern(
            uow, pair_id, principal().user_id, data["kind"], data["text"], data["about_id"]
        )
        return raised.concern(uow.conn, concern_id)


@blp.route("/concerns", methods=["GET"])
@guard("own.read", rows="concern.read")
@blp.arguments(ConcernQuery, location="query")
@blp.response(200, ConcernSummaryOut(many=True))
def list_concerns(query):
    """Concerns the caller may read (handles, or raised), without their content."""
    with runtime().reading() as conn:
        found = raised.listed(conn, query["cycle_id"], query["status"])
        return access.visible_concerns(conn, found)


@blp.route("/concerns/<concern_id>", methods=["GET"])
@guard("concern.read", access.concern)
@blp.response(200, ConcernOut)
def read_concern(concern_id):
    """The concern's content, with (for its handlers) the pair or group it is about, the member
    it names and what was done following it; the read is recorded (ConfidentialRecordViewed) before it is shown,
    with the capacity the policy let the reader in as."""
    viewed_as = access.VIEWER_ROLES[capacity()]
    for attempt in range(3):
        try:
            with work() as uow:
                row = concerns.record_read(uow, concern_id, principal().user_id, viewed_as)
                # Its handlers' record (notes to file) is theirs: the raiser sees what they said.
                extra = concerns.context(uow.conn, row) if viewed_as != "raiser" else {}
                return {**row, **extra, "viewed_as": viewed_as}
        except ConcurrencyError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@blp.route("/concerns/<concern_id>/acknowledge", methods=["POST"])
@guard("concern.handle", access.concern)
@blp.response(200, ConcernSummaryOut)
def acknowledge_concern(concern_id):
    with work() as uow:
        concerns.acknowledge(uow, concern_id, principal().user_id)
        return raised.concern(uow.conn, concern_id)


@blp.route("/concerns/<concern_id>/resolve", methods=["POST"])
@guard("concern.handle", access.concern)
@blp.arguments(ResolveIn)
@blp.response(200, ConcernSummaryOut)
def resolve_concern(data, concern_id):
    with work() as uow:
        concerns.resolve(uow, concern_id, principal().user_id, data["note"])
        return raised.concern(uow.conn, concern_id)


@blp.route("/concerns/<concern_id>/actions", methods=["POST"])
@guard("concern.handle", access.concern)
@blp.arguments(FollowUpIn)
@blp.response(201, ConcernActionOut)
def follow_up_concern(data, concern_id):
    """Record what was done following the concern: the pair ended (`pair_ended`, after ending it
    in pairing), a rematch (`rematch`) or a note to file (`note`, its text required). Each is a
    ConcernFollowedUp event and shows on the concern's timeline."""
    with work() as uow:
        concerns.follow_up(uow, concern_id, principal().user_id, data["action"], data["note"])
        return raised.actions(uow.conn, concern_id)[-1]


@blp.route("/concerns/<concern_id>/access-log", methods=["GET"])
@guard("concern.access_log", access.concern)
@blp.response(200, AccessOut(many=True))
def concern_access_log(concern_id):
    """Who read the concern and when (the audit trail): its handlers and the consortium admin."""
    with runtime().reading() as conn:
        return raised.reads(conn, concern_id)


@blp.route("/concerns/escalate-due", methods=["POST"])
@guard("consortium.operate", consortium)
@blp.response(200, ConcernSummaryOut(many=True))
def escalate_due_concerns():
    """Escalate now every concern not acknowledged within CONCERN_ACK_HOURS (the worker also
    does this every minute). For operators: the consortium-wide admin or system."""
    rt = runtime()
    escalated = concerns.escalate_due(rt, clock())
    with rt.reading() as conn:
        return [raised.concern(conn, concern_id) for concern_id in escalated]
