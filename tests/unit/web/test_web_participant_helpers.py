"""The participant pages' pure helpers: ranking forms and moves, focus, form payloads."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from web.client import Reply
from web.pages.me.inbox import inbox_signature
from web.pages.me.meetings import meeting_payload
from web.pages.me.participation import Pair, split_list
from web.pages.me.profile import profile_payload
from web.pages.me.ranking import apply_move, apply_refusal, focus_after, parse_ranks
from web.pages.me.surveys import survey_answers

KNOWN = ["a", "b", "c"]


def test_rank_numbers_give_the_order_and_gaps_are_fine():
    assert parse_ranks({"rank-a": "3", "rank-b": "", "rank-c": "1"}, KNOWN) == (["c", "a"], "")
    assert parse_ranks({}, KNOWN) == ([], "")


def test_rank_numbers_used_twice_or_not_numbers_are_refused():
    assert parse_ranks({"rank-a": "1", "rank-c": "1"}, KNOWN)[1].startswith("Give each rank")
    assert parse_ranks({"rank-a": "first"}, KNOWN)[1].startswith("Ranks are whole numbers")
    assert parse_ranks({"rank-a": "0"}, KNOWN)[1].startswith("Ranks are whole numbers")


def test_a_rank_for_someone_not_in_the_cycle_is_ignored():
    assert parse_ranks({"rank-zzz": "1", "rank-b": "2"}, KNOWN) == (["b"], "")


@pytest.mark.parametrize(
    ("move", "expected"),
    [
        ("up:b", ["b", "a"]),
        ("up:a", ["a", "b"]),  # already first
        ("down:a", ["b", "a"]),
        ("down:b", ["a", "b"]),  # already last
        ("add:c", ["a", "b", "c"]),
        ("add:a", ["a", "b"]),  # already ranked
        ("remove:a", ["b"]),
        ("up:zzz", ["a", "b"]),  # not a mentor of the cycle
        ("sideways:a", ["a", "b"]),
    ],
)
def test_moves(move, expected):
    assert apply_move(["a", "b"], KNOWN, move) == expected


def test_focus_stays_on_the_same_button_while_it_exists():
    assert focus_after("up:b", ["a", "b", "c"], "e1") == "up-e1-b"
    assert focus_after("up:b", ["b", "a"], "e1") == "rank-e1-b"  # now first: no Up button
    assert focus_after("down:a", ["b", "a", "c"], "e1") == "down-e1-a"
    assert focus_after("down:a", ["b", "a"], "e1") == "rank-e1-a"  # now last
    assert focus_after("add:c", ["a", "c"], "e1") == "rank-e1-c"
    assert focus_after("remove:c", ["a"], "e1") == "add-e1-c"
    assert focus_after("refuse:c", ["a"], "e1") == "accept-e1-c"
    assert focus_after("accept:c", ["a"], "e1") == "add-e1-c"


def test_a_mentor_marks_mentees_not_acceptable_and_takes_it_back():
    assert apply_move(["a", "b"], KNOWN, "refuse:a") == ["b"]  # no longer ranked
    assert apply_refusal([], KNOWN, "refuse:a") == ["a"]
    assert apply_refusal(["a"], KNOWN, "refuse:a") == ["a"]
    assert apply_refusal(["a", "c"], KNOWN, "accept:a") == ["c"]
    assert apply_refusal(["a", "gone"], KNOWN, "up:b") == ["a"]  # no longer eligible: dropped
    assert apply_refusal([], KNOWN, "refuse:zzz") == []


def test_lists_split_on_commas_and_lines():
    assert split_list(" research, wellness \n global surgery,, ") == [
        "research",
        "wellness",
        "global surgery",
    ]
    assert split_list("") == []


def test_a_mentor_profile_sends_capacity_and_a_mentee_profile_does_not():
    form = {"interests": "a, b", "goals": " g ", "languages": "English", "meeting_mode": "virtual"}
    mentor = profile_payload({**form, "capacity": " 3 "}, "mentor", ["mon-am"])
    assert mentor == {
        "interests": ["a", "b"],
        "goals": "g",
        "languages": ["English"],
        "meeting_mode": "virtual",
        "availability": ["mon-am"],
        "capacity": "3",
    }
    assert "capacity" not in profile_payload({**form, "capacity": "3"}, "mentee", [])
    assert profile_payload({**form, "capacity": ""}, "mentor", [])["capacity"] is None


def _pair(kind: str) -> Pair:
    return Pair("p1", "c1", kind, True, "2026-07-01", "mentee", "P", "C", "", [])


def test_meeting_payload_sends_attendees_for_groups_only():
    form = MultiDict(
        [
            ("date", "2026-08-01"),
            ("duration_minutes", "45"),
            ("mode", "virtual"),
            ("topics", "cv, interviews"),
            ("attendees", "x"),
            ("attendees", "y"),
        ]
    )
    assert meeting_payload(form, _pair("pair")) == {
        "date": "2026-08-01",
        "duration_minutes": "45",
        "mode": "virtual",
        "topics": ["cv", "interviews"],
        "notes": "",
    }
    assert meeting_payload(form, _pair("group"))["attendees"] == ["x", "y"]


def test_survey_answers_send_likert_as_numbers_and_blanks_as_none():
    items = [
        {"item_id": "q1", "kind": "likert"},
        {"item_id": "q2", "kind": "choice"},
        {"item_id": "q3", "kind": "text"},
        {"item_id": "q4", "kind": "likert"},
    ]
    form = {"item-q1": "4", "item-q2": "Often", "item-q3": "  ", "item-q4": "lots"}
    assert survey_answers(items, form) == {"q1": 4, "q2": "Often", "q3": None, "q4": "lots"}


def test_the_inbox_signature_changes_when_a_notice_arrives_or_is_read():
    one = [{"id": "n1", "read": False}]
    assert inbox_signature(one) == inbox_signature([{"id": "n1", "read": False}])
    assert inbox_signature(one) != inbox_signature([{"id": "n1", "read": True}])
    assert inbox_signature(one) != inbox_signature([*one, {"id": "n2", "read": False}])


def test_refusals_name_their_fields(make_client):
    from web.pages.me.participation import refused

    client = make_client()
    body = {"message": "A meeting cannot be dated in the future.", "errors": {"json": {"date": ["A meeting cannot be dated in the future."]}}}  # fmt: skip
    with client.application.test_request_context():
        errors = refused(Reply(422, body))
        assert errors == {
            "date": "A meeting cannot be dated in the future.",
            "_form": "A meeting cannot be dated in the future.",
        }
        generic = {"message": "The request is not valid.", "errors": {"json": {"answers": {"q1": ["An answer is required."]}}}}  # fmt: skip
        assert refused(Reply(422, generic), depth=2) == {"answers.q1": "An answer is required."}
