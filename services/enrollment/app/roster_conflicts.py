"""Conflicts of interest a roster carries: each row's `kind:email` entries become conflicts
declared on that row's enrollment, against people in the same file or already registered."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from services.eventkit.unit_of_work import UnitOfWork

from ..domain.enrollment import Enrollment
from ..domain.person import Person
from ..domain.roster_rows import RosterRow
from ..readmodels import lookups


def unknown_people(conn: sa.Connection, rows: tuple[RosterRow, ...]) -> list[dict]:
    """A problem per conflict naming an email that is neither in the file nor registered."""
    in_file = {r.email for r in rows}
    named = sorted({email for r in rows for _, email in r.conflicts} - in_file)
    known = lookups.people_by_email(conn, named) if named else {}
    return [
        {"line": r.line, "column": "conflicts",
         "message": f"No one with the email '{email}' is in this file or already registered; "
                    "add them to the file or remove the conflict."}
        for r in rows
        for _, email in r.conflicts
        if email not in in_file and email not in known
    ]  # fmt: skip


def declare(
    uow: UnitOfWork,
    rows: tuple[RosterRow, ...],
    person_by_email: Mapping[str, Person],
    enrollment_by_email: Mapping[str, Enrollment],
) -> None:
    """Declare each row's conflicts (a conflict already declared with the same kind is kept as
    is, so importing the same file again changes nothing)."""
    outside = sorted({email for r in rows for _, email in r.conflicts} - set(person_by_email))
    others = dict(person_by_email)
    for email, found in lookups.people_by_email(uow.conn, outside).items():
        others[email] = uow.load(Person, found.id)
    for r in rows:
        for kind, email in r.conflicts:
            enrollment_by_email[r.email].declare_conflict(others[email], kind)
