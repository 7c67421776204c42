"""Roster import: a CSV of people validated whole, then applied atomically and idempotently."""

from __future__ import annotations

import marshmallow as ma
from flask import request
from flask_smorest import Blueprint

from services.eventkit.access import guard
from services.eventkit.config import env_int
from services.eventkit.http import request_meta, runtime
from services.eventkit.inputs import body_limit
from services.eventkit.unit_of_work import UnitOfWork

from .. import readmodels as rm
from ..app import roster_import
from ..app.roster_import import RosterRejected
from ..domain.roster_file import MAX_ROSTER_BYTES
from .access import cycle, row

blp = Blueprint("roster", __name__, url_prefix="/api", description="Roster import")


class RowErrorOut(ma.Schema):
    line = ma.fields.Integer()
    column = ma.fields.String(allow_none=True)
    message = ma.fields.String()


class RowErrorsOut(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # a refused request (not file) names `json` or `query` fields

    rows = ma.fields.List(ma.fields.Nested(RowErrorOut))


class RosterRejectedOut(ma.Schema):
    """A refused roster (see rejected_response), or a refused request in the usual shape."""

    code = ma.fields.Integer()
    status = ma.fields.String()
    message = ma.fields.String()
    errors = ma.fields.Nested(RowErrorsOut)


class ImportOut(ma.Schema):
    rows = ma.fields.Integer()
    people_registered = ma.fields.Integer()
    enrolled = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    encoding = ma.fields.String()


MAX_ERRORS_SHOWN = 1000


def rejected_response(exc: RosterRejected):
    """422 listing the bad rows (the first thousand of a badly broken file)."""
    message = exc.message
    if len(exc.rows) > MAX_ERRORS_SHOWN:
        message += f" The first {MAX_ERRORS_SHOWN} of {len(exc.rows)} problems are listed."
    return {"code": 422, "message": message, "errors": {"rows": exc.rows[:MAX_ERRORS_SHOWN]}}, 422


def max_roster_bytes() -> int:
    return env_int("ROSTER_MAX_BYTES", MAX_ROSTER_BYTES)


def max_upload_bytes() -> int:
    # The file plus a multipart envelope: a file just over the limit still gets its 422.
    return max_roster_bytes() + 64 * 1024


def _uploaded_bytes() -> bytes:
    """A multipart `file` field, or the request body itself (text/csv)."""
    upload = request.files.get("file")
    if upload is not None:
        return upload.read(max_roster_bytes() + 1)
    return request.get_data(cache=False)[: max_roster_bytes() + 1]


ROSTER_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            }
        },
    },
}


@blp.route("/cycles/<cycle_id>/roster", methods=["POST"])
@guard("cycle.manage", cycle)
@body_limit(max_upload_bytes)
@blp.doc(requestBody=ROSTER_BODY)
@blp.response(200, ImportOut)
@blp.alt_response(422, schema=RosterRejectedOut, description="Every bad row; nothing written")
def import_roster(cycle_id):
    """Import a roster CSV into a cycle: every row is checked before anything is written.

    Columns: name, email, role, training_level (required); specialty, pronouns, interests,
    goals, languages, meeting_mode, capacity. Importing the same file again changes nothing.
    """
    rt = runtime()
    with rt.reading() as conn:
        found = row(conn, rm.cycles, cycle_id, "cycle")
    data = _uploaded_bytes()
    parsed = roster_import.validate(data, max_roster_bytes())
    with rt.engine.begin() as conn:
        summary = roster_import.apply(
            UnitOfWork(conn, rt.store), found, parsed.rows, data, request_meta(None)
        )
    return {**summary, "encoding": parsed.encoding}


blp.register_error_handler(RosterRejected, rejected_response)
