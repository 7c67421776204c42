"""The audit trail's summaries: only allow-listed fields, never free text or confidential
content, and every listed field one the event really has."""

from __future__ import annotations

import marshmallow as ma
import pytest

from services.enrollment.readmodels.trail import (
    SERVICES,
    SUMMARY,
    Cursor,
    service_of,
    split_stream,
    summary_of,
)

# Fields that hold what people wrote, or who raised a concern: never in a summary.
NEVER = {
    "text", "notes", "topics", "objectives", "action_items", "answers", "note", "reason",
    "body", "html", "subject", "email", "to_address", "description", "goals", "guidelines",
    "identity", "title", "raised_by", "raiser_role", "error", "meeting_expectations",
}  # fmt: skip
ON_THE_WIRE = {"ProposalGenerated": {"pair_count", "unmatched_count"}}


def _fields(event_type: str) -> set[str]:
    registry = SERVICES[service_of(event_type)]
    schema: type[ma.Schema] = registry.get(event_type).schema
    return set(schema._declared_fields) | ON_THE_WIRE.get(event_type, set())


@pytest.mark.parametrize("event_type", sorted(SUMMARY))
def test_listed_fields_exist_and_none_is_free_text(event_type):
    names = {f if isinstance(f, str) else f[0] for f in SUMMARY[event_type]}
    plain = {f for f in SUMMARY[event_type] if isinstance(f, str)}
    assert plain <= _fields(event_type), plain - _fields(event_type)
    assert not names & NEVER


def test_every_event_type_of_every_service_is_considered():
    every = {name for registry in SERVICES.values() for name in registry.names()}
    assert every <= set(SUMMARY), sorted(every - set(SUMMARY))


def test_a_concern_keeps_its_ids_only():
    payload = {
        "concern_id": "c", "pair_id": "p", "cycle_id": "y", "raised_by": "m", "raiser_role": "mentee",
        "kind": "boundary", "text": "He shouted at me", "parties": ["x"], "ack_due": "2026-01-01",
    }  # fmt: skip
    assert summary_of("ConcernRaised", payload) == {"concern_id": "c", "pair_id": "p"}
    assert summary_of("SomethingNew", payload) == {}


def test_derived_fields_say_what_changed_not_what_it_says():
    changed = summary_of("PersonUpdated", {"person_id": "p", "name": "New Name"})
    assert changed == {"person_id": "p", "changed": ["name"]}
    assert summary_of("GroupFormed", {"group_id": "g", "coach_id": "c", "member_ids": [1, 2]}) == {
        "group_id": "g", "coach_id": "c", "member_ids_count": 2
    }  # fmt: skip


def test_streams_and_cursors():
    uid = "0b3f5c1e-1111-2222-3333-444455556666"
    assert split_stream(f"concern-access-{uid}") == ("concern-access", uid)
    assert split_stream("odd") == ("", "odd")
    cursor = Cursor("2026-11-02T09:30:00.000001Z", 42)
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode("nonsense") is None and Cursor.decode("x~-1") is None
