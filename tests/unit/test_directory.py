"""The directory projection: each service's tables keep the columns they declare."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from services.eventkit.directory import Directory
from services.eventkit.envelope import Envelope, new_id
from services.eventkit.projections import apply_events

metadata = sa.MetaData()
people = sa.Table(
    "people", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
)  # fmt: skip
participants = sa.Table(
    "participants", metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("person_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("withdrawal_reason", sa.Text, nullable=True),
    sa.Column("ranking", sa.JSON, nullable=True),
)  # fmt: skip
cycles = sa.Table(
    "cycles", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("opened_at", sa.String(40), nullable=False),
    sa.Column("label", sa.String(200), nullable=False),
)  # fmt: skip
grants = sa.Table(  # keyed by grant_key alone, so the key names the person too
    "grants", metadata,
    sa.Column("grant_key", sa.String(200), primary_key=True),
    sa.Column("person_id", sa.String(36), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=True),
    sa.Column("program_id", sa.String(36), nullable=True),
)  # fmt: skip

directory = Directory(
    people=people,
    enrollments=participants,
    cycles=cycles,
    staff_roles=grants,
    derive={"cycles": lambda row: {"label": f"{row['name']} ({row['pairing_format']})"}},
)
WHEN = dt.datetime(2026, 9, 1, 8, 0, tzinfo=dt.UTC)


def event(event_type: str, **payload) -> Envelope:
    return Envelope(
        event_id=new_id(), event_type=event_type, schema_version=1, stream_id="s",
        stream_version=1, institution_id="inst", actor={"id": "a", "role": "system"},
        occurred_at=WHEN, correlation_id=new_id(), causation_id=None, payload=payload,
    )  # fmt: skip


@pytest.fixture
def conn():
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.begin() as connection:
        yield connection


def rows(conn: sa.Connection, table: sa.Table) -> list[dict]:
    return [dict(r) for r in conn.execute(sa.select(table)).mappings()]


def test_a_table_keeps_only_its_columns_and_a_repeated_event_changes_nothing(conn) -> None:
    registered = event(
        "PersonRegistered", person_id="p1", institution_id="inst", name="Ada", email="a@x.org",
        training_level="PGY2", specialty="Surgery", pronouns="",
    )  # fmt: skip
    for _ in range(2):
        directory.apply(conn, registered)
    directory.apply(conn, event("PersonUpdated", person_id="p1", pronouns="she/her"))
    assert rows(conn, people) == [{"id": "p1", "institution_id": "inst", "name": "Ada"}]
    directory.apply(conn, event("PersonUpdated", person_id="p1", name="Ada L."))
    assert rows(conn, people)[0]["name"] == "Ada L."


def test_enrollments_keyed_by_enrollment_id_follow_their_lifecycle(conn) -> None:
    directory.apply(conn, event(
        "ParticipantEnrolled", enrollment_id="e1", cycle_id="c1", program_id="pr", person_id="p1",
        role="mentee", interests=[], capacity=None, goals="", languages=[], meeting_mode="either",
        availability=[], identity=None, guidelines_accepted_version=None,
    ))  # fmt: skip
    directory.apply(conn, event("InterestRanked", enrollment_id="e1", mentor_enrollment_ids=["m"]))
    directory.apply(conn, event("ParticipantWithdrew", enrollment_id="e1", reason="moved"))
    assert rows(conn, participants) == [{
        "enrollment_id": "e1", "cycle_id": "c1", "institution_id": "inst", "person_id": "p1",
        "status": "withdrawn", "withdrawal_reason": "moved", "ranking": ["m"],
    }]  # fmt: skip
    directory.apply(conn, event("ParticipantReenrolled", enrollment_id="e1"))
    assert rows(conn, participants)[0]["status"] == "active"
    assert rows(conn, participants)[0]["withdrawal_reason"] is None


def test_cycles_take_derived_columns_and_their_open_state(conn) -> None:
    directory.apply(conn, event(
        "CycleOpened", cycle_id="c1", program_id="pr", institution_id="inst", name="2026",
        cross_institution=False, pairing_format="group", group_size=4,
        meeting_expectations="", review_months=[3],
    ))  # fmt: skip
    directory.apply(conn, event("CycleClosed", cycle_id="c1", program_id="pr"))
    assert rows(conn, cycles) == [{
        "id": "c1", "program_id": "pr", "is_open": False, "opened_at": "2026-09-01T08:00:00.000000Z",
        "label": "2026 (group)",
    }]  # fmt: skip


def test_staff_roles_are_matched_by_person_role_and_scope(conn) -> None:
    def grant(kind: str, person: str, program: str | None) -> Envelope:
        return event(
            kind, person_id=person, role="coordinator", institution_id="inst", program_id=program
        )

    for e in (grant("RoleGranted", "p1", None), grant("RoleGranted", "p2", None)):
        directory.apply(conn, e)
        directory.apply(conn, e)
    directory.apply(conn, grant("RoleGranted", "p1", "pr"))
    directory.apply(conn, grant("RoleRevoked", "p1", None))
    kept = {(r["person_id"], r["program_id"]) for r in rows(conn, grants)}
    assert kept == {("p2", None), ("p1", "pr")}


def test_events_for_tables_not_kept_are_not_handled() -> None:
    assert not {"InstitutionAdded", "ConflictDeclared", "GuidelinesUpdated"} & set(
        directory.handlers
    )
    assert directory.tables == [cycles, people, participants, grants]
    with pytest.raises(ValueError, match="not kept"):
        Directory(people=people, derive={"programs": dict})


def _person_events(data) -> list[Envelope]:
    """Registrations, updates and grants over a few people: repeats and interleavings included."""
    people_ids = [f"p{i}" for i in range(4)]
    kind = st.sampled_from(["PersonRegistered", "PersonUpdated", "RoleGranted", "RoleRevoked"])
    made = []
    for _ in range(data.draw(st.integers(1, 25))):
        person, what = data.draw(st.sampled_from(people_ids)), data.draw(kind)
        name = data.draw(st.sampled_from(["Ada", "Bo", "Cy"]))
        if what == "PersonRegistered":
            made.append(event(what, person_id=person, institution_id="inst", name=name,
                              email=f"{person}@x.org", training_level="PGY1", specialty="",
                              pronouns=""))  # fmt: skip
        elif what == "PersonUpdated":
            made.append(event(what, person_id=person, name=name))
        else:
            program = data.draw(st.sampled_from([None, "pr"]))
            made.append(event(what, person_id=person, role="coordinator",
                              institution_id="inst", program_id=program))  # fmt: skip
    return made


@given(st.data())
@settings(max_examples=60, deadline=None)
def test_events_applied_in_runs_leave_the_rows_one_by_one_would(data) -> None:
    events = _person_events(data)
    projection = directory.projection("copy")
    results = []
    for apply in (
        lambda c: [projection.apply(c, e) for e in events],
        lambda c: apply_events(c, [projection], events),
    ):
        engine = sa.create_engine("sqlite://")
        metadata.create_all(engine)
        with engine.begin() as c:
            apply(c)
            results.append(
                {
                    t.name: sorted(map(sorted, (r.items() for r in rows(c, t))))
                    for t in (people, grants)
                }
            )
    assert results[0] == results[1]


def test_a_service_handler_on_an_event_replaces_its_batch_handler() -> None:
    projection = directory.projection("copy")
    assert "PersonRegistered" in projection.batch_handlers
    seen: list[str] = []

    @projection.on("PersonRegistered")
    def _registered(conn, e) -> None:
        seen.append(e.payload["person_id"])

    assert "PersonRegistered" not in projection.batch_handlers
    two = [event("PersonRegistered", person_id=p) for p in ("p1", "p2")]
    apply_events(None, [projection], two)  # type: ignore[arg-type]
    assert seen == ["p1", "p2"]
