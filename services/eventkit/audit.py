"""The audit trail every service serves from its own event store: who did what, when, and
whether the hash chain still holds. Payloads never leave through it (they can hold confidential
text); the envelope says enough to audit: type, stream, tenant, actor, time and hashes."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import validate

from .access import authorize, consortium, guard
from .aggregate import Aggregate
from .context import runtime
from .envelope import Metadata, new_id
from .inputs import INT64_MAX
from .operations import last_verification
from .policy import Resource
from .service import Service

MAX_PAGE = 200
F = ma.fields


class AuditQuery(ma.Schema):
    # Bounded: positions are 64-bit, and a larger number overflows the database driver.
    before = F.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=INT64_MAX),
        metadata={"description": "position"},
    )
    limit = F.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    institution_id = F.String(load_default=None, validate=validate.Length(max=36))
    event_type = F.String(load_default=None, validate=validate.Length(max=100))
    actor = F.String(load_default=None, validate=validate.Length(max=200))


class VerifyQuery(ma.Schema):
    institution_id = F.String(load_default=None, validate=validate.Length(max=36))


class ActorOut(ma.Schema):
    id = F.String()
    role = F.String()


class AuditEventOut(ma.Schema):
    position = F.Integer()
    event_id = F.String()
    event_type = F.String()
    stream_id = F.String()
    stream_version = F.Integer()
    institution_id = F.String(allow_none=True)
    actor = F.Nested(ActorOut)
    occurred_at = F.String()
    hash = F.String()
    prev_hash = F.String()


class AuditPageOut(ma.Schema):
    service = F.String()
    events = F.List(F.Nested(AuditEventOut))
    next_before = F.Integer(
        allow_none=True,
        metadata={"description": "pass as `before` for older events; null at the end"},
    )


class ChainBreakOut(ma.Schema):
    position = F.Integer(allow_none=True)
    stream_id = F.String()
    stream_version = F.Integer()
    event_id = F.String()
    reason = F.String()


class VerifyOut(ma.Schema):
    service = F.String()
    ok = F.Boolean(allow_none=True, metadata={"description": "null before the first check"})
    checked_at = F.String(allow_none=True, metadata={"description": "when the check ran"})
    events_checked = F.Integer()
    streams_checked = F.Integer()
    first_break = F.Nested(ChainBreakOut, allow_none=True)


class AccessLog(Aggregate):
    """One access the consortium audit trail keeps (an export, a sign-in), as its own stream:
    it is sealed like every event, and never conflicts with anything else being written."""

    stream_prefix = "access"


def record_access(rt, conn: sa.Connection, event_type: str, meta: Metadata, **payload) -> None:
    """Append one access event in the caller's transaction."""
    log = AccessLog(new_id())
    log.record(event_type, **payload)
    rt.save(conn, log, meta)


def require_auditor(institution_id: str | None) -> None:
    """The consortium admin audits everything; an institution's coordinators audit it alone, and
    must name it."""
    authorize(Resource(institution_id) if institution_id else consortium())


AUDIT_COLUMNS = (
    "position",
    "event_id",
    "event_type",
    "stream_id",
    "stream_version",
    "institution_id",
    "actor",
    "occurred_at",
    "hash",
    "prev_hash",
)


def audit_blueprint(service: Service) -> Blueprint:
    blp = Blueprint("audit", __name__, url_prefix="/api", description="Audit trail")
    events = service.tables.events

    @blp.route("/audit", methods=["GET"])
    @guard("institution.audit")
    @blp.arguments(AuditQuery, location="query")
    @blp.response(200, AuditPageOut)
    def audit(query):
        """Stored events, newest first, without payloads. Page with `before` = the previous
        page's `next_before`. Consortium admin (all, or one institution) or coordinators of
        `institution_id`."""
        require_auditor(query["institution_id"])
        select = sa.select(*(events.c[name] for name in AUDIT_COLUMNS))
        if query["before"] is not None:
            select = select.where(events.c.position < query["before"])
        if query["institution_id"]:
            select = select.where(events.c.institution_id == query["institution_id"])
        if query["event_type"]:
            select = select.where(events.c.event_type == query["event_type"])
        if query["actor"]:
            select = select.where(events.c.actor["id"].as_string() == query["actor"])
        # One row more than asked tells whether older events remain.
        select = select.order_by(events.c.position.desc()).limit(query["limit"] + 1)
        with runtime().reading() as conn:
            rows = conn.execute(select).mappings().all()
        page = rows[: query["limit"]]
        more = len(rows) > query["limit"]
        return {
            "service": service.name,
            "events": page,
            "next_before": page[-1]["position"] if more else None,
        }

    @blp.route("/audit/verify", methods=["GET"])
    @guard("institution.audit")
    @blp.arguments(VerifyQuery, location="query")
    @blp.response(200, VerifyOut)
    def audit_verify(query):
        """The last check of the whole store that the worker kept (it verifies at start and
        with every checkpoint), and when it ran: whether every stream's hash chain and the
        store's seal hold, and the first event where they do not. `ok` is null before the
        first check. `tandem <service> verify` checks afresh."""
        require_auditor(query["institution_id"])
        kept = last_verification(runtime())
        if kept is None:
            return {"service": service.name, "ok": None, "events_checked": 0,
                    "streams_checked": 0, "first_break": None, "checked_at": None}  # fmt: skip
        return {
            "service": service.name,
            "ok": kept.ok,
            "events_checked": kept.events_checked,
            "streams_checked": kept.streams_checked,
            "first_break": kept.first_break,
            "checked_at": kept.checked_at,
        }

    return blp
