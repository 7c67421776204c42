"""One projection of enrollment's events, configured by each service that keeps a copy.

Enrollment owns institutions, programs, cycles, people, enrollments, declared conflicts and staff
roles; every other service keeps the part it needs. A service declares its own tables (its schema
and migrations stay its own) and hands them to `Directory`; each event then writes the columns
the table has and skips those it lacks, so a table keeps just the columns it declares.

    from services.eventkit.directory import Directory

    people = sa.Table("people", metadata,
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("institution_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    participants = sa.Table("participants", metadata,
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
    )
    directory = Directory(people=people, enrollments=participants)
    roster = directory.projection("roster", sources=["enrollment", "pairing"])

    @roster.on("PairCreated")        # the service's own handlers go on the same projection
    def _pair(conn, e): ...

    @roster.on("PersonRegistered")   # to do more on one of enrollment's events, wrap it
    def _person(conn, e):
        directory.apply(conn, e)
        wake_what_waited_for(conn, e.payload["person_id"])

A table's row id is its `id` column, or else the event's own id field (`enrollment_id` for
enrollments, `person_id` for people, …). The columns each kind of row can keep:

| kind | columns |
|---|---|
| institutions | id, name, short_code, time_zone |
| programs | id, institution_id, name, program_type, guidelines, guidelines_version |
| cycles | id, program_id, institution_id, name, is_open, cross_institution, pairing_format, group_size, meeting_expectations, review_months, opened_at |
| people | id, institution_id, name, email, training_level, specialty, pronouns |
| enrollments | id, cycle_id, program_id, institution_id, person_id, role, status (active, withdrawn), withdrawal_reason, ranking (a mentee's mentor or a mentor's mentee enrollment ids), not_acceptable (a mentor's), guidelines_accepted_version, interests, capacity, goals, languages, meeting_mode, availability, identity |
| conflicts | enrollment_id, other_person_id, person_id, cycle_id, kind |
| staff_roles | person_id, grant_key, role, institution_id, program_id |

A column the service adds that no event carries (a NOT NULL one wants a server default) can be
computed for new rows: `Directory(institutions=t, derive={"institutions": lambda row:
{"signature": f"The {row['name']} team"}})`.

`PersonErased` puts placeholders in the person's personal columns (people: name, email, pronouns;
their enrollments: goals, identity), the same values a replay shows once their key is gone.

A new row replaces any row with its key, so applying an event twice changes nothing. A staff role
is matched by person, role, institution and program; its `grant_key` only makes the primary key
(it names the person too when `person_id` is not part of the table's primary key).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from . import keyring
from .envelope import Envelope, format_time
from .personal import placeholder
from .projections import BatchHandler, Handler, Projection

Row = dict[str, Any]
RowOf = Callable[[Envelope], Row]

# Each kind of row, parents first, with the event field that carries the row's id.
KINDS: Mapping[str, str | None] = {
    "institutions": "institution_id",
    "programs": "program_id",
    "cycles": "cycle_id",
    "people": "person_id",
    "enrollments": "enrollment_id",
    "conflicts": None,
    "staff_roles": None,
}
PERSON_FIELDS = ("name", "training_level", "specialty", "pronouns")
PROFILE_FIELDS = (
    "interests", "capacity", "goals", "languages", "meeting_mode", "availability", "identity",
)  # fmt: skip
GRANT_FIELDS = ("person_id", "role", "institution_id", "program_id")
# What PersonErased blanks, with the kind of value each held (s text, d object): the placeholders
# are those a replay shows once the person's key is gone, so a rebuild gives the same rows.
ERASED_PERSON = {"name": "s", "email": "s", "pronouns": "s"}
ERASED_PROFILE = {"goals": "s", "identity": "d"}


def _erased(kinds: Mapping[str, str], person_id: str) -> Row:
    return {field: placeholder(field, kind, person_id) for field, kind in kinds.items()}


def grant_key(role: str, institution_id: str | None, program_id: str | None) -> str:
    return f"{role}:{institution_id or ''}:{program_id or ''}"


class Directory:
    """The handlers of enrollment's events for the tables a service keeps (see the module)."""

    def __init__(
        self,
        *,
        institutions: sa.Table | None = None,
        programs: sa.Table | None = None,
        cycles: sa.Table | None = None,
        people: sa.Table | None = None,
        enrollments: sa.Table | None = None,
        conflicts: sa.Table | None = None,
        staff_roles: sa.Table | None = None,
        derive: Mapping[str, Callable[[Row], Row]] | None = None,
    ) -> None:
        given = {
            "institutions": institutions, "programs": programs, "cycles": cycles,
            "people": people, "enrollments": enrollments, "conflicts": conflicts,
            "staff_roles": staff_roles,
        }  # fmt: skip
        self._tables = {kind: given[kind] for kind in KINDS if given[kind] is not None}
        self._derive = dict(derive or {})
        self._deletes: dict[tuple, sa.Delete] = {}
        unknown = set(self._derive) - set(self._tables)
        if unknown:
            raise ValueError(f"derive names tables not kept: {sorted(unknown)}")
        self.handlers: dict[str, Handler] = {
            event_type: handler
            for event_type, (kind, handler) in self._all_handlers().items()
            if kind in self._tables
        }
        self.batch_handlers: dict[str, BatchHandler] = {
            event_type: self._putting_all(kind, row, match)
            for event_type, (kind, row, match) in self._rows().items()
            if kind in self._tables
        }

    @property
    def tables(self) -> list[sa.Table]:
        """The tables kept, parents first."""
        return list(self._tables.values())

    def projection(self, name: str, *, sources: Sequence[str] = ("enrollment",)) -> Projection:
        """A projection of these tables and handlers; add the service's own with `.on`. With no
        sources it follows the service's own store (enrollment's own directory)."""
        return Projection(
            name,
            tables=self.tables,
            handlers=dict(self.handlers),
            batch_handlers=dict(self.batch_handlers),
            sources=sources,
        )

    def apply(self, conn: sa.Connection, event: Envelope) -> None:
        handler = self.handlers.get(event.event_type)
        if handler is not None:
            handler(conn, event)

    # --- the events -----------------------------------------------------------------------------

    def _all_handlers(self) -> dict[str, tuple[str, Handler]]:
        return {
            **{
                event_type: (kind, self._putting(kind, row, match))
                for event_type, (kind, row, match) in self._rows().items()
            },
            "GuidelinesUpdated": ("programs", self._guidelines_updated),
            "CycleClosed": ("cycles", self._cycle_state),
            "CycleReopened": ("cycles", self._cycle_state),
            "PersonUpdated": ("people", self._person_updated),
            "PersonErased": ("people", self._person_erased),
            "ProfileUpdated": ("enrollments", self._profile_updated),
            "InterestRanked": ("enrollments", self._interest_ranked),
            "MenteesRanked": ("enrollments", self._mentees_ranked),
            "GuidelinesAccepted": ("enrollments", self._guidelines_accepted),
            "ParticipantWithdrew": ("enrollments", self._withdrew),
            "ParticipantReenrolled": ("enrollments", self._reenrolled),
            "ConflictRemoved": ("conflicts", self._conflict_removed),
            "RoleRevoked": ("staff_roles", self._role_revoked),
        }

    def _rows(self) -> dict[str, tuple[str, RowOf, Sequence[str] | None]]:
        """The events that put a whole row: (kind, the row an event makes, the columns that
        match the row it replaces; None for the table's primary key)."""
        return {
            "InstitutionAdded": ("institutions", self._institution_row, None),
            "ProgramCreated": ("programs", self._program_row, None),
            "CycleOpened": ("cycles", self._cycle_row, None),
            "PersonRegistered": ("people", self._person_row, None),
            "ParticipantEnrolled": ("enrollments", self._enrollment_row, None),
            "ConflictDeclared": ("conflicts", self._conflict_row, None),
            "RoleGranted": ("staff_roles", self._grant_row, GRANT_FIELDS),
        }

    def _putting(self, kind: str, row: RowOf, match: Sequence[str] | None) -> Handler:
        return lambda conn, e: self._put_all(conn, kind, [row(e)], match)

    def _putting_all(self, kind: str, row: RowOf, match: Sequence[str] | None) -> BatchHandler:
        return lambda conn, events: self._put_all(conn, kind, [row(e) for e in events], match)

    def _institution_row(self, e: Envelope) -> Row:
        p = e.payload
        return {
            "id": p["institution_id"], "name": p["name"], "short_code": p["short_code"],
            "time_zone": p["time_zone"],
        }  # fmt: skip

    def _program_row(self, e: Envelope) -> Row:
        p = e.payload
        return {
            "id": p["program_id"], "institution_id": p["institution_id"], "name": p["name"],
            "program_type": p["program_type"], "guidelines": p["guidelines"],
            "guidelines_version": 1,
        }  # fmt: skip

    def _guidelines_updated(self, conn: sa.Connection, e: Envelope) -> None:
        p = e.payload
        self._set(conn, "programs", p["program_id"], {
            "guidelines": p["guidelines"], "guidelines_version": p["guidelines_version"],
        })  # fmt: skip

    def _cycle_row(self, e: Envelope) -> Row:
        p = e.payload
        return {
            "id": p["cycle_id"], "program_id": p["program_id"],
            "institution_id": p["institution_id"], "name": p["name"], "is_open": True,
            "cross_institution": p["cross_institution"], "pairing_format": p["pairing_format"],
            "group_size": p["group_size"], "meeting_expectations": p["meeting_expectations"],
            "review_months": list(p["review_months"] or []),
            "opened_at": format_time(e.occurred_at),
        }  # fmt: skip

    def _cycle_state(self, conn: sa.Connection, e: Envelope) -> None:
        is_open = e.event_type == "CycleReopened"
        self._set(conn, "cycles", e.payload["cycle_id"], {"is_open": is_open})

    def _person_row(self, e: Envelope) -> Row:
        p = e.payload
        return {
            "id": p["person_id"], "institution_id": p["institution_id"], "email": p["email"],
            **{k: p[k] for k in PERSON_FIELDS},
        }  # fmt: skip

    def _person_updated(self, conn: sa.Connection, e: Envelope) -> None:
        p = e.payload
        self._set(conn, "people", p["person_id"], {k: p[k] for k in PERSON_FIELDS if k in p})

    def _person_erased(self, conn: sa.Connection, e: Envelope) -> None:
        person_id = e.payload["person_id"]
        keyring.forget(person_id)  # later events of theirs must not open with a cached key
        self._set(conn, "people", person_id, _erased(ERASED_PERSON, person_id))
        if "enrollments" in self._tables:
            table = self._tables["enrollments"]
            values = self._columns("enrollments", _erased(ERASED_PROFILE, person_id))
            if values:
                conn.execute(table.update().where(table.c.person_id == person_id).values(**values))

    def _enrollment_row(self, e: Envelope) -> Row:
        p = e.payload
        return {
            "id": p["enrollment_id"], "cycle_id": p["cycle_id"], "program_id": p["program_id"],
            "institution_id": e.institution_id, "person_id": p["person_id"], "role": p["role"],
            "status": "active", "ranking": [],
            "guidelines_accepted_version": p["guidelines_accepted_version"],
            **{k: p[k] for k in PROFILE_FIELDS},
        }  # fmt: skip

    def _profile_updated(self, conn: sa.Connection, e: Envelope) -> None:
        p = e.payload
        self._set(conn, "enrollments", p["enrollment_id"], {
            k: p[k] for k in PROFILE_FIELDS if k in p
        })  # fmt: skip

    def _interest_ranked(self, conn: sa.Connection, e: Envelope) -> None:
        p = e.payload
        self._set(conn, "enrollments", p["enrollment_id"], {"ranking": p["mentor_enrollment_ids"]})

    def _mentees_ranked(self, conn: sa.Connection, e: Envelope) -> None:
        p = e.payload
        self._set(conn, "enrollments", p["enrollment_id"], {
            "ranking": p["mentee_enrollment_ids"],
            "not_acceptable": p["not_acceptable_enrollment_ids"],
        })  # fmt: skip

    def _guidelines_accepted(self, conn: sa.Connection, e: Envelope) -> None:
        p = e.payload
        self._set(conn, "enrollments", p["enrollment_id"], {
            "guidelines_accepted_version": p["guidelines_version"],
        })  # fmt: skip

    def _withdrew(self, conn: sa.Connection, e: Envelope) -> None:
        p = e.payload
        self._set(conn, "enrollments", p["enrollment_id"], {
            "status": "withdrawn", "withdrawal_reason": p["reason"],
        })  # fmt: skip

    def _reenrolled(self, conn: sa.Connection, e: Envelope) -> None:
        self._set(conn, "enrollments", e.payload["enrollment_id"], {
            "status": "active", "withdrawal_reason": None,
        })  # fmt: skip

    def _conflict_row(self, e: Envelope) -> Row:
        fields = ("enrollment_id", "other_person_id", "person_id", "cycle_id", "kind")
        return {k: e.payload[k] for k in fields}

    def _conflict_removed(self, conn: sa.Connection, e: Envelope) -> None:
        p = e.payload
        self._delete(conn, "conflicts", {k: p[k] for k in ("enrollment_id", "other_person_id")})

    def _grant_row(self, e: Envelope) -> Row:
        grant = {k: e.payload.get(k) for k in GRANT_FIELDS}
        key = grant_key(grant["role"], grant["institution_id"], grant["program_id"])
        table = self._tables["staff_roles"]
        if "person_id" not in table.primary_key.columns:
            key = f"{grant['person_id']}:{key}"
        return {**grant, "grant_key": key}

    def _role_revoked(self, conn: sa.Connection, e: Envelope) -> None:
        self._delete(conn, "staff_roles", {k: e.payload.get(k) for k in GRANT_FIELDS})

    # --- writing rows -----------------------------------------------------------------------

    def _put_all(
        self, conn: sa.Connection, kind: str, rows: Sequence[Row], match: Sequence[str] | None
    ) -> None:
        """Insert rows, each replacing the row with the same key (or the same `match` columns),
        in a few statements whatever their number."""
        table = self._tables[kind]
        derive = self._derive.get(kind)
        keys = list(match or [c.name for c in table.primary_key.columns])
        latest: dict[tuple, Row] = {}  # one put after another leaves the last row of a key
        for row in rows:
            values = self._columns(kind, {**row, **(derive(row) if derive else {})})
            key = tuple(values[k] for k in keys)
            latest.pop(key, None)  # the row goes where its last put was
            latest[key] = values
        if len(keys) == 1 and None not in {key[0] for key in latest}:
            statement = self._deletes.get((kind, "in"))
            if statement is None:
                statement = self._deletes[(kind, "in")] = table.delete().where(
                    table.c[keys[0]].in_(sa.bindparam("w_ids", expanding=True))
                )
            ids = [key[0] for key in latest]
            for start in range(0, len(ids), 500):
                conn.execute(statement, {"w_ids": ids[start : start + 500]})
        else:
            for values in latest.values():
                self._delete(conn, kind, {k: values[k] for k in keys})
        # Rows of one shape go in one executemany (a multi-row INSERT).
        shapes: dict[tuple[str, ...], list[Row]] = {}
        for values in latest.values():
            shapes.setdefault(tuple(values), []).append(values)
        for same in shapes.values():
            conn.execute(table.insert(), same)

    def _set(self, conn: sa.Connection, kind: str, row_id: str, changes: Row) -> None:
        table = self._tables[kind]
        values = self._columns(kind, changes)
        if values:
            # The changed columns come from the parameters: one compiled statement per set.
            statement = table.update().where(self._id(kind) == sa.bindparam("w_id"))
            conn.execute(statement, {**values, "w_id": row_id})

    def _delete(self, conn: sa.Connection, kind: str, where: Row) -> None:
        # One statement per shape of the condition, reused: building it costs more than running it.
        shape = (kind, tuple((k, v is None) for k, v in where.items()))
        statement = self._deletes.get(shape)
        if statement is None:
            table = self._tables[kind]
            statement = self._deletes[shape] = table.delete().where(
                *(table.c[k].is_(None) if v is None else table.c[k] == sa.bindparam(f"w_{k}")
                  for k, v in where.items())
            )  # fmt: skip
        conn.execute(statement, {f"w_{k}": v for k, v in where.items() if v is not None})

    def _id(self, kind: str) -> sa.Column:
        table = self._tables[kind]
        return table.c["id"] if "id" in table.c else table.c[KINDS[kind]]

    def _columns(self, kind: str, row: Row) -> Row:
        """The row's values the table has a column for; `id` goes to the table's id column."""
        table = self._tables[kind]
        named = {self._id(kind).name if k == "id" else k: v for k, v in row.items()}
        return {k: v for k, v in named.items() if k in table.c}
