"""How the audit page reads the trail's entries: times, records and what changed."""

from __future__ import annotations

import datetime as dt

from web.audit import row_of


def test_an_entry_becomes_a_row():
    row = row_of(
        {
            "service": "feedback",
            "event_type": "MeetingLogged",
            "entity_type": "meeting",
            "entity_id": "0b3f5c1e-1111-2222-3333-444455556666",
            "institution_id": "i-1",
            "program_id": "p-1",
            "actor_id": "person-1",
            "actor_role": "mentee",
            "occurred_at": "2026-11-02T09:30:00.000001Z",
            "correlation_id": "c-1",
            "summary": {"duration_minutes": 30, "mode": "virtual", "channels": ["email", "in_app"]},
        }
    )
    assert row.occurred_at == dt.datetime(2026, 11, 2, 9, 30, 0, 1, tzinfo=dt.UTC)
    assert row.entity_short == "0b3f5c1e"
    assert row.summary_items == [
        ("channels", "email, in_app"), ("duration minutes", "30"), ("mode", "virtual")
    ]  # fmt: skip


def test_an_entry_without_a_summary_shows_none():
    row = row_of(
        {
            "service": "enrollment",
            "event_type": "Unlisted",
            "occurred_at": "2026-11-02T09:30:00Z",
            "summary": {},
            "institution_id": None,
        }
    )
    assert row.summary_items == [] and row.institution_id is None and row.entity_id == ""
