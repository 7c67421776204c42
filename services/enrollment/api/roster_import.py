"""Roster import: a CSV of people validated whole, previewed person by person, then applied
atomically and idempotently once the coordinator confirms the preview."""

from __future__ import annotations

import marshmallow as ma
from flask import jsonify, request
from flask_smorest import Blueprint, abort

from services.eventkit.access import guard
from services.eventkit.config import env_int
from services.eventkit.http import request_meta, runtime
from services.eventkit.inputs import body_limit
from services.eventkit.unit_of_work import UnitOfWork

from .. import readmodels as rm
from ..app import roster_import
from ..app.roster_import import PlanChanged, RosterRejected
from ..domain.invitation import invitation_of
from ..domain.roster_file import MAX_ROSTER_BYTES
from ..domain.roster_plan import STATUSES
from ..readmodels import roster_previews
from .access import cycle, row
from .schemas import InvitationIn

blp = Blueprint("roster", __name__, url_prefix="/api", description="Roster import")


class RowErrorOut(ma.Schema):
    line = ma.fields.Integer()
    column = ma.fields.String(allow_none=True)
    message = ma.fields.String()


class RowErrorsOut(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE  # a refused request (not file) names `json` or `query` fields

    rows = ma.fields.List(ma.fields.Nested(RowErrorOut))


class RefusalOut(ma.Schema):
    code = ma.fields.Integer()
    status = ma.fields.String()
    message = ma.fields.String()


class RosterRejectedOut(RefusalOut):
    """A refused roster (see rejected_response), or a refused request in the usual shape."""

    errors = ma.fields.Nested(RowErrorsOut)


class CountsOut(ma.Schema):
    rows = ma.fields.Integer()
    people_registered = ma.fields.Integer(metadata={"description": "New people"})
    enrolled = ma.fields.Integer(metadata={"description": "New enrollments in the cycle"})
    updated = ma.fields.Integer(metadata={"description": "Existing people with any change"})
    unchanged = ma.fields.Integer()
    other_institution = ma.fields.Integer(
        metadata={"description": "Rows left out: the email is another institution's person's"}
    )
    case_only_matches = ma.fields.Integer(
        metadata={"description": "Rows whose email matches an existing person only ignoring case"}
    )


class ImportOut(CountsOut):
    encoding = ma.fields.String()


class ChangeOut(ma.Schema):
    field = ma.fields.String()
    old = ma.fields.Raw(allow_none=True)
    new = ma.fields.Raw(allow_none=True)


class PlannedRowOut(ma.Schema):
    line = ma.fields.Integer()
    email = ma.fields.String(metadata={"description": "Lower-cased"})
    email_as_written = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    status = ma.fields.String(metadata={"enum": list(STATUSES)})
    person_id = ma.fields.String(allow_none=True)
    directory_email = ma.fields.String(metadata={"description": "The matched person's email"})
    case_only_match = ma.fields.Boolean()
    enrollment_id = ma.fields.String(allow_none=True)
    enrolls = ma.fields.Boolean(metadata={"description": "A new enrollment in this cycle"})
    reenrolls = ma.fields.Boolean(metadata={"description": "A withdrawn enrollment made active"})
    changes = ma.fields.List(ma.fields.Nested(ChangeOut))


class PreviewOut(ma.Schema):
    file_sha256 = ma.fields.String()
    plan = ma.fields.String(metadata={"description": "Confirm with this to apply the preview"})
    encoding = ma.fields.String()
    counts = ma.fields.Nested(CountsOut)
    people = ma.fields.List(ma.fields.Nested(PlannedRowOut))


class PlanChangedOut(RefusalOut):
    preview = ma.fields.Nested(PreviewOut)


HEX64 = ma.validate.Regexp(r"^[0-9a-f]{64}$", error="Must be 64 lower-case hex digits.")


class ApplyIn(ma.Schema):
    file_sha256 = ma.fields.String(required=True, validate=HEX64)
    plan = ma.fields.String(required=True, validate=HEX64)
    invitation = ma.fields.Nested(
        InvitationIn, load_default=None, allow_none=True,
        metadata={"description": "When to invite the people newly enrolled; without it, at once"},
    )  # fmt: skip


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


def _preview_out(plan, encoding: str) -> dict:
    return {
        "file_sha256": plan.file_sha256,
        "plan": plan.fingerprint,
        "encoding": encoding,
        "counts": plan.counts(),
        "people": [r.as_dict() for r in plan.rows],
    }


@blp.route("/cycles/<cycle_id>/roster/preview", methods=["POST"])
@guard("cycle.manage", cycle)
@body_limit(max_upload_bytes)
@blp.doc(requestBody=ROSTER_BODY)
@blp.response(200, PreviewOut)
@blp.alt_response(422, schema=RosterRejectedOut, description="Every bad row; nothing kept")
def preview_roster(cycle_id):
    """What importing this roster would change, person by person; nothing is applied.

    Each row is new, updated (every changed field, old and new), unchanged, or left out because
    the email is another institution's person's. An email that matches an existing person only
    ignoring letter case matches that person (`case_only_match`). Apply it with
    `POST /cycles/{cycle_id}/roster/apply`, naming `file_sha256` and `plan`.
    """
    rt = runtime()
    with rt.reading() as conn:
        found = row(conn, rm.cycles, cycle_id, "cycle")
    data = _uploaded_bytes()
    parsed = roster_import.validate(data, max_roster_bytes())
    with rt.engine.begin() as conn:
        plan = roster_import.preview(conn, found, parsed.rows, data)
        roster_previews.keep(conn, cycle_id, found["institution_id"], plan.file_sha256, data)
    return _preview_out(plan, parsed.encoding)


@blp.route("/cycles/<cycle_id>/roster/apply", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.arguments(ApplyIn)
@blp.response(200, ImportOut)
@blp.alt_response(404, description="No such preview (applied already, or too old): preview again")
@blp.alt_response(409, schema=PlanChangedOut, description="The directory changed: the new preview")
@blp.alt_response(422, schema=RosterRejectedOut, description="The cycle is closed; nothing written")
def apply_roster(body, cycle_id):
    """Apply a previewed roster exactly as previewed.

    If the directory changed since the preview (so the plan would differ), nothing is written
    and the answer is 409 with the new preview to confirm instead.
    """
    rt = runtime()
    with rt.reading() as conn:
        found = row(conn, rm.cycles, cycle_id, "cycle")
        data = roster_previews.previewed(conn, cycle_id, body["file_sha256"])
    if data is None:
        abort(404, message="This roster preview is no longer kept. Upload the file again.")
    parsed = roster_import.validate(data, max_roster_bytes())
    try:
        with rt.engine.begin() as conn:
            summary = roster_import.apply(
                UnitOfWork(conn, rt.store), found, parsed.rows, data, request_meta(None),
                confirmed=body["plan"], invitation=invitation_of(body["invitation"]),
            )  # fmt: skip
            roster_previews.forget(conn, cycle_id, body["file_sha256"])
    except PlanChanged as exc:
        message = (
            "The directory changed since this preview, so nothing was imported. "
            "Check the new preview and confirm it."
        )
        out = PlanChangedOut().dump(
            {"code": 409, "status": "Conflict", "message": message,
             "preview": _preview_out(exc.plan, parsed.encoding)}
        )  # fmt: skip
        return jsonify(out), 409  # a Response: not dumped as ImportOut
    return {**summary, "encoding": parsed.encoding}


blp.register_error_handler(RosterRejected, rejected_response)
