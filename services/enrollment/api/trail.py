"""The consortium audit trail (see `readmodels/trail.py`): pages, the CSV export, and the access events the
web records (sign-ins, failed sign-ins, password links)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import hmac
import io
from collections.abc import Iterator, Sequence

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, abort, stream_with_context
from flask_smorest import Blueprint
from marshmallow import validate

from services.eventkit import config, rls
from services.eventkit.access import authorize, consortium, guard
from services.eventkit.audit import record_access
from services.eventkit.contracts.enrollment import ACCESS_KINDS
from services.eventkit.http import principal, request_meta, runtime
from services.eventkit.policy import Resource, permits

from .. import readmodels as rm
from ..readmodels import trail

blp = Blueprint("trail", __name__, url_prefix="/api", description="Consortium audit trail")
F = ma.fields


def _cursor(value: str) -> None:
    if trail.Cursor.decode(value) is None:
        raise ma.ValidationError("Not a cursor this API gave.")


class TrailFilterQuery(ma.Schema):
    institution_id = F.String(load_default=None, validate=validate.Length(max=36))
    program_id = F.String(load_default=None, validate=validate.Length(max=36))
    actor = F.String(load_default=None, validate=validate.Length(max=200))
    event_type = F.String(load_default=None, validate=validate.Length(max=100))
    service = F.String(load_default=None, validate=validate.OneOf(list(trail.SERVICES)))
    entity_type = F.String(load_default=None, validate=validate.Length(max=60))
    entity_id = F.String(load_default=None, validate=validate.Length(max=200))
    since = F.Date(load_default=None, metadata={"description": "from this day (UTC)"})
    until = F.Date(load_default=None, metadata={"description": "to this day (UTC), inclusive"})


class TrailQuery(TrailFilterQuery):
    cursor = F.String(
        load_default=None,
        validate=[validate.Length(max=80), _cursor],
        metadata={"description": "the previous page's `next_cursor`"},
    )
    limit = F.Integer(load_default=50, validate=validate.Range(min=1, max=trail.MAX_PAGE))


class TrailEntryOut(ma.Schema):
    id = F.Integer()
    event_id = F.String()
    service = F.String()
    event_type = F.String()
    entity_type = F.String()
    entity_id = F.String()
    institution_id = F.String(allow_none=True)
    program_id = F.String(allow_none=True)
    actor_id = F.String()
    actor_role = F.String()
    occurred_at = F.String()
    correlation_id = F.String()
    summary = F.Dict(metadata={"description": "non-confidential fields of what changed"})


class TrailPageOut(ma.Schema):
    entries = F.List(F.Nested(TrailEntryOut))
    next_cursor = F.String(
        allow_none=True,
        metadata={"description": "pass as `cursor` for older entries; null at the end"},
    )


class AccessEventIn(ma.Schema):
    kind = F.String(required=True, validate=validate.OneOf(ACCESS_KINDS))
    person_id = F.String(load_default=None, validate=validate.Length(max=36))
    email = F.String(
        load_default=None,
        validate=validate.Length(max=254),
        metadata={"description": "kept only as a keyed hash unless it names a person"},
    )
    method = F.String(load_default=None, validate=validate.Length(max=40))
    what = F.String(load_default=None, validate=validate.Length(max=100))


def reader_scopes(permission: str) -> list[trail.Scope] | None:
    """What the caller may read under `permission`: None for the whole consortium, else the
    institutions and programs of their grants the policy lets them audit (403 if none)."""
    who = principal()
    if permits(who, permission, consortium()):
        authorize(consortium())
        return None
    scopes = [
        trail.Scope(g.institution_id, g.program_id)
        for g in who.grants
        if g.institution_id and permits(who, permission, Resource(g.institution_id, g.program_id))
    ]
    if not scopes:
        authorize(consortium())  # refused
    authorize(Resource(scopes[0].institution_id, scopes[0].program_id))
    return scopes


def _filters(query: dict, scopes: Sequence[trail.Scope] | None) -> trail.Filters:
    """The query's filters; naming an institution or program beyond one's scopes is refused."""
    filters = trail.Filters(
        institution_id=query["institution_id"],
        program_id=query["program_id"],
        actor_id=query["actor"],
        event_type=query["event_type"],
        service=query["service"],
        entity_type=query["entity_type"],
        entity_id=query["entity_id"],
        since=query["since"],
        until=query["until"],
    )
    if scopes is None:
        return filters
    if filters.institution_id and all(s.institution_id != filters.institution_id for s in scopes):
        abort(403, description="You may not read that institution's audit trail.")
    if filters.program_id:
        with rls.routing(runtime()) as conn:
            owner = conn.execute(
                sa.select(rm.programs.c.institution_id).where(
                    rm.programs.c.id == filters.program_id
                )
            ).scalar()
        if not any(
            s.institution_id == owner and s.program_id in (None, filters.program_id) for s in scopes
        ):
            abort(403, description="You may not read that program's audit trail.")
    return filters


@blp.route("/trail", methods=["GET"])
@guard("trail.read")
@blp.arguments(TrailQuery, location="query")
@blp.response(200, TrailPageOut)
def read_trail(query):
    """The consortium audit trail, newest first: every service's events and the recorded
    accesses, with a summary of what changed (never confidential content). Coordinators read
    their institution's entries, or their program's; the consortium admin reads everything.
    Page with `cursor` = the previous page's `next_cursor`."""
    scopes = reader_scopes("trail.read")
    filters = _filters(query, scopes)
    cursor = trail.Cursor.decode(query["cursor"]) if query["cursor"] else None
    with runtime().reading() as conn:
        rows, next_cursor = trail.page(conn, filters, scopes, cursor, query["limit"])
    return {"entries": rows, "next_cursor": next_cursor.encode() if next_cursor else None}


TRAIL_CSV_RESPONSE = {
    "description": "Every matching entry, newest first; columns: "
    + ", ".join(trail.CSV_COLUMNS)
    + ".",
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "headers": {"Content-Disposition": {"schema": {"type": "string"}}},
}


@blp.route("/trail.csv", methods=["GET"])
@guard("trail.export")
@blp.arguments(TrailFilterQuery, location="query")
@blp.doc(responses={"200": TRAIL_CSV_RESPONSE})
def export_trail(query):
    """The audit trail as CSV, with the page's filters. The export is itself recorded in the
    trail (`AccessRecorded`, kind `export`) before a row is sent."""
    scopes = reader_scopes("trail.export")
    filters = _filters(query, scopes)
    institution = filters.institution_id or (
        scopes[0].institution_id
        if scopes and len({s.institution_id for s in scopes}) == 1
        else None
    )
    rt = runtime()
    with rt.engine.begin() as conn:
        record_access(
            rt, conn, "AccessRecorded", request_meta(institution),
            kind="export", what="audit trail", person_id=principal().user_id,
            program_id=filters.program_id,
        )  # fmt: skip
    response = Response(stream_with_context(_csv(filters, scopes)), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="audit-trail-{dt.date.today().isoformat()}.csv"'
    )
    return response


def _csv(filters: trail.Filters, scopes: Sequence[trail.Scope] | None) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=trail.CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    with runtime().reading() as conn:
        for n, entry in enumerate(trail.every(conn, filters, scopes), start=1):
            writer.writerow(trail.csv_row(entry))
            if n % 500 == 0:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
    yield out.getvalue()


def email_hash(email: str) -> str:
    """A keyed hash of an email: the same email always gives the same value, and the value
    gives back no email without the audit key."""
    normal = email.strip().lower().encode()
    return hmac.new(config.audit_key(), b"email|" + normal, hashlib.sha256).hexdigest()[:32]


@blp.route("/access-events", methods=["POST"])
@guard("access.record")
@blp.arguments(AccessEventIn)
@blp.response(201)
def record_access_event(data):
    """Record a sign-in, a failed sign-in or a password link issued (the web, as the system).
    An email that names nobody is kept only as a keyed hash."""
    authorize(consortium())
    rt = runtime()
    with rt.engine.begin() as conn, rls.unrestricted(conn):
        person = None
        if data["person_id"]:
            person = conn.execute(
                sa.select(rm.people.c.id, rm.people.c.institution_id).where(
                    rm.people.c.id == data["person_id"]
                )
            ).first()
        elif data["email"]:
            person = conn.execute(
                sa.select(rm.people.c.id, rm.people.c.institution_id).where(
                    sa.func.lower(rm.people.c.email) == data["email"].strip().lower()
                )
            ).first()
        meta = request_meta(person.institution_id if person else None)
        if person and data["kind"] in ("sign_in", "operation"):  # the person acts, not the web
            meta = dataclasses.replace(meta, actor={"id": person.id, "role": "person"})
        record_access(
            rt,
            conn,
            "AccessRecorded",
            meta,
            kind=data["kind"],
            person_id=person.id if person else None,
            email_hash=None if person or not data["email"] else email_hash(data["email"]),
            method=data["method"],
            **({"what": data["what"]} if data["what"] else {}),
        )
    return {}
