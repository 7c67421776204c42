"""Roster import: a CSV of people validated whole, then applied atomically and idempotently."""

from __future__ import annotations

import hashlib

import marshmallow as ma
import sqlalchemy as sa
from flask import request
from flask_smorest import Blueprint

from services.eventkit import DomainError, rls
from services.eventkit.access import guard
from services.eventkit.config import env_int
from services.eventkit.envelope import new_id
from services.eventkit.http import request_meta, runtime
from services.eventkit.inputs import body_limit

from .. import readmodels as rm
from ..domain import Enrollment, Person, Program
from ..roster import MAX_ROSTER_BYTES, RosterRefused, RosterRow, parse_roster
from . import access
from .access import row

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


class RosterRejected(Exception):
    """The file or some rows are invalid: nothing was written."""

    def __init__(self, message: str, rows: list[dict]) -> None:
        super().__init__(message)
        self.message = message
        self.rows = rows


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
@guard("cycle.manage", access.cycle)
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
        cycle = row(conn, rm.cycles, cycle_id, "cycle")
    data = _uploaded_bytes()
    try:
        parsed = parse_roster(data, max_bytes=max_roster_bytes())
    except RosterRefused as exc:
        raise RosterRejected(str(exc), [{"line": 1, "column": None, "message": str(exc)}]) from None
    if not parsed.ok:
        raise RosterRejected(
            f"{len(parsed.errors)} problem(s) in the file; nothing was imported.",
            [{"line": e.line, "column": e.column, "message": e.message} for e in parsed.errors],
        )
    with rt.engine.begin() as conn:
        summary = _apply(conn, cycle, parsed.rows, hashlib.sha256(data).hexdigest())
    return {**summary, "encoding": parsed.encoding}


def _apply(
    conn: sa.Connection, cycle: sa.RowMapping, rows: tuple[RosterRow, ...], sha: str
) -> dict:
    rt = runtime()
    program = rt.load(conn, Program, cycle["program_id"])
    try:
        program.check_open(cycle["id"])
    except DomainError as exc:
        raise RosterRejected(
            exc.message, [{"line": 1, "column": None, "message": exc.message}]
        ) from None
    people = _existing_people(conn, [r.email for r in rows])
    problems = [
        {"line": r.line, "column": "email",
         "message": "This email belongs to someone at another institution."}
        for r in rows
        if r.email in people
        and people[r.email].institution_id != cycle["institution_id"]
        and not cycle["cross_institution"]
    ]  # fmt: skip
    if problems:
        raise RosterRejected(
            f"{len(problems)} problem(s) in the file; nothing was imported.", problems
        )
    enrolled_ids = _existing_enrollments(conn, cycle["id"], [p.id for p in people.values()])
    changed: list = []
    counts = {
        "rows": len(rows),
        "people_registered": 0,
        "enrolled": 0,
        "updated": 0,
        "unchanged": 0,
    }
    for r in rows:
        existing = people.get(r.email)
        if existing is None:
            person = Person(new_id())
            person.register(
                cycle["institution_id"], r.name, r.email, r.training_level, r.specialty, r.pronouns
            )
            counts["people_registered"] += 1
        else:
            person = rt.load(conn, Person, existing.id)
            person.update(
                name=r.name,
                training_level=r.training_level,
                specialty=r.specialty,
                pronouns=r.pronouns,
            )
        profile = {
            "interests": list(r.interests), "goals": r.goals, "languages": list(r.languages),
            "meeting_mode": r.meeting_mode, "capacity": r.capacity,
        }  # fmt: skip
        enrollment_id = enrolled_ids.get((person.id, r.role))
        if enrollment_id is None:
            enrollment = Enrollment(new_id())
            enrollment.enroll(program, cycle["id"], person, r.role, profile)
            counts["enrolled"] += 1
        else:
            enrollment = rt.load(conn, Enrollment, enrollment_id)
            if not enrollment.active:
                enrollment.reenroll(program)
            enrollment.update_profile(profile)
            if existing is not None and not person.pending and not enrollment.pending:
                counts["unchanged"] += 1
            else:
                counts["updated"] += 1
        changed.extend(a for a in (person, enrollment) if a.pending)
    if changed:
        rt.save_all(conn, changed, request_meta(cycle["institution_id"]))
        program.record(
            "RosterImported", cycle_id=cycle["id"], program_id=program.id, file_sha256=sha, **counts
        )
        rt.save(conn, program, request_meta(cycle["institution_id"]))
    return counts


def _existing_people(conn: sa.Connection, emails: list[str]) -> dict[str, sa.Row]:
    # Emails are unique in the consortium: the rows of other institutions are read to refuse them.
    with rls.unrestricted(conn):
        return _people_by_email(conn, emails)


def _people_by_email(conn: sa.Connection, emails: list[str]) -> dict[str, sa.Row]:
    found: dict[str, sa.Row] = {}
    for start in range(0, len(emails), 500):
        chunk = emails[start : start + 500]
        rows = conn.execute(
            sa.select(rm.people.c.id, rm.people.c.email, rm.people.c.institution_id).where(
                rm.people.c.email.in_(chunk)
            )
        )
        found.update({r.email: r for r in rows})
    return found


def _existing_enrollments(
    conn: sa.Connection, cycle_id: str, person_ids: list[str]
) -> dict[tuple[str, str], str]:
    e = rm.enrollments
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(person_ids), 500):
        rows = conn.execute(
            sa.select(e.c.id, e.c.person_id, e.c.role).where(
                e.c.cycle_id == cycle_id, e.c.person_id.in_(person_ids[start : start + 500])
            )
        )
        found.update({(r.person_id, r.role): r.id for r in rows})
    return found


blp.register_error_handler(RosterRejected, rejected_response)
