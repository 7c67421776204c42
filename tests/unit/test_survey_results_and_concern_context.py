"""The pure rules of reviews on demand and concerns with context: results per item suppressed
under 5 people, free text only where shared, de-identified rows; a survey issued now; a concern
naming a member of its relationship and the actions that follow it."""

from __future__ import annotations

import datetime as dt

import pytest

from services.eventkit.aggregate import DomainError
from services.feedback.app.survey_issuing import month_of_cycle
from services.feedback.domain.concerns import Concern
from services.feedback.domain.relationships import Relationship
from services.feedback.domain.survey_results import result_rows, survey_results
from services.feedback.domain.surveys import SurveyInstance, normalize_items

ITEMS = normalize_items([
    {"item_id": "ok", "kind": "likert", "prompt": "It helps."},
    {"item_id": "pick", "kind": "choice", "prompt": "Meet how?", "options": ["Video", "Room"]},
    {"item_id": "open", "kind": "text", "prompt": "Anything?", "required": False, "shared": True},
    {"item_id": "private", "kind": "text", "prompt": "Private?", "required": False},
])  # fmt: skip
NOW = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)


def _responses(n: int) -> list[dict]:
    return [
        {"person_id": f"p{i}", "answers": {"ok": 1 + i % 5, "pick": "Video", "open": f"t{i}",
                                           "private": "secret"}}
        for i in range(n)
    ]  # fmt: skip


def test_only_text_items_can_be_shared():
    assert [i["shared"] for i in ITEMS] == [False, False, True, False]
    [likert] = normalize_items([{"kind": "likert", "prompt": "x", "shared": True}])
    assert likert["shared"] is False


def test_results_are_suppressed_under_five_and_private_text_never_shown():
    people = [f"p{i}" for i in range(9)]
    four = survey_results(ITEMS, people, _responses(4))
    assert four["response_rate"]["responded"] == 4
    assert all(i["result"]["suppressed"] for i in four["items"])
    assert result_rows(four) == []

    five = survey_results(ITEMS, people, _responses(5))
    by_id = {i["item_id"]: i["result"] for i in five["items"]}
    assert [p["count"] for p in by_id["ok"]["distribution"]] == [1, 1, 1, 1, 1]
    assert by_id["pick"]["counts"] == [
        {"option": "Video", "count": 5},
        {"option": "Room", "count": 0},
    ]
    assert sorted(by_id["open"]["texts"]) == ["t0", "t1", "t2", "t3", "t4"]
    assert "texts" not in by_id["private"] and "secret" not in repr(five)
    rows = result_rows(five)
    assert {r["item_id"] for r in rows} == {"ok", "pick", "open"}
    assert not any("p0" in repr(r) for r in rows)
    # Someone not issued the survey is not counted.
    assert survey_results(ITEMS, people[:3], _responses(5))["response_rate"]["suppressed"]


def _pair(active: bool = True) -> Relationship:
    return Relationship("pair-1", "cycle-1", "pair", {"m": "mentor", "e": "mentee"}, active,
                        dt.date(2026, 1, 1))  # fmt: skip


def test_a_survey_issued_now_goes_to_active_relationships_and_says_who_issued_it():
    instance = SurveyInstance("i-1")
    with pytest.raises(DomainError) as refused:
        instance.issue_now("t", "cycle-1", 0, NOW.date(), [_pair(False)], 14, "coord", "cycle")
    assert refused.value.field == "audience"
    with pytest.raises(DomainError):
        instance.issue_now("t", "cycle-1", 0, NOW.date(), [_pair()], 14, "coord", "everyone")
    instance.issue_now("t", "cycle-1", 3, NOW.date(), [_pair()], 7, "coord", "chosen")
    [event] = instance.pending
    assert event.payload["issued_by"] == "coord" and event.payload["audience"] == "chosen"
    assert event.payload["schedule_id"] == "i-1" and event.payload["due_on"] == "2026-12-12"
    assert {r["person_id"] for r in event.payload["recipients"]} == {"m", "e"}


def test_the_month_of_the_cycle():
    assert month_of_cycle(dt.date(2026, 1, 31), dt.date(2026, 2, 27)) == 0
    assert month_of_cycle(dt.date(2026, 1, 15), dt.date(2026, 7, 15)) == 6


def test_a_concern_names_a_member_and_records_what_follows():
    concern = Concern("c-1")
    with pytest.raises(DomainError) as refused:
        concern.raise_(_pair(), "e", "boundary", "x", NOW, 72, set(), about_id="stranger")
    assert refused.value.field == "about_id"
    concern.raise_(_pair(), "e", "boundary", "Remarks.", NOW, 72, set(), about_id="m")
    assert concern.pending[0].payload["about_id"] == "m"
    with pytest.raises(DomainError) as empty:
        concern.follow_up("coord", "note", "  ")
    assert empty.value.field == "note"
    concern.follow_up("coord", "rematch", "")
    assert concern.pending[-1].event_type == "ConcernFollowedUp"
    concern.acknowledge("coord")
    concern.resolve("coord", "Done.")
    with pytest.raises(DomainError):
        concern.follow_up("coord", "note", "Late.")
