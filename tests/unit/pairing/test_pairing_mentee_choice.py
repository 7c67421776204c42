"""Mentee choice: requests walk down each mentee's ranking as mentors decline, stay silent or fill."""

import datetime as dt

import pytest
from replay import NOW, reloaded

from services.eventkit import DomainError
from services.pairing.domain.cycle_pairing import CyclePairing

CAPACITY = {"m1": 1, "m2": 2, "m3": 1}


def _open(choices: dict[str, list[str]]) -> CyclePairing:
    pairing = CyclePairing("cycle-1")
    pairing.open_choice_round("round-1", choices, CAPACITY, NOW, response_hours=48)
    return pairing


def _request_of(pairing: CyclePairing, mentee: str) -> dict:
    (request,) = [r for r in pairing.pending_requests() if r["mentee_id"] == mentee]
    return request


def test_each_mentee_first_asks_their_first_choice():
    pairing = _open({"a": ["m1", "m2"], "b": ["m1"], "c": []})
    assert _request_of(pairing, "a")["mentor_id"] == "m1"
    assert _request_of(pairing, "b")["mentor_id"] == "m1"
    unmatched = [e.payload for e in pairing.pending if e.event_type == "MenteeUnmatched"]
    assert unmatched == [{"round_id": "round-1", "cycle_id": "cycle-1", "mentee_id": "c",
                          "reason": "ranked no mentor the rules allow"}]  # fmt: skip


def test_a_decline_moves_down_the_list_even_after_reloading():
    pairing = reloaded(_open({"a": ["m1", "m2"]}))  # the round's choices come from its event
    pairing.respond(
        _request_of(pairing, "a")["request_id"], False, "no time this year", CAPACITY, NOW
    )
    assert _request_of(pairing, "a")["mentor_id"] == "m2"
    assert _request_of(pairing, "a")["rank"] == 2


def test_acceptance_pairs_them_and_a_full_mentor_passes_others_on():
    pairing = _open({"a": ["m1", "m2"], "b": ["m1", "m3"]})
    pairing.respond(_request_of(pairing, "a")["request_id"], True, "", CAPACITY, NOW)
    assert [(p["mentee_id"], p["mentor_id"]) for p in pairing.active_pairs()] == [("a", "m1")]
    # m1 (capacity 1) is now full: b's request to m1 was declined for them and went on to m3.
    assert _request_of(pairing, "b")["mentor_id"] == "m3"
    declined = [e.payload for e in pairing.pending if e.event_type == "RequestDeclined"]
    assert [d["reason"] for d in declined] == ["mentor full"]


def test_silence_past_the_deadline_moves_on():
    pairing = _open({"a": ["m1", "m2"]})
    assert pairing.expire_due(CAPACITY, NOW + dt.timedelta(hours=47)) == 0
    assert pairing.expire_due(CAPACITY, NOW + dt.timedelta(hours=48)) == 1
    assert _request_of(pairing, "a")["mentor_id"] == "m2"
    with pytest.raises(DomainError, match="passed"):
        pairing.respond(
            _request_of(pairing, "a")["request_id"], True, "", CAPACITY, NOW + dt.timedelta(days=5)
        )


def test_exhausted_lists_leave_the_mentee_unmatched_with_the_reason():
    pairing = _open({"a": ["m3"]})
    pairing.respond(_request_of(pairing, "a")["request_id"], False, "", CAPACITY, NOW)
    unmatched = [e.payload["reason"] for e in pairing.pending if e.event_type == "MenteeUnmatched"]
    assert unmatched == ["every ranked mentor declined, did not answer in time, or was full"]


def test_answers_are_refused_twice_and_rounds_do_not_overlap():
    pairing = _open({"a": ["m1"]})
    request_id = _request_of(pairing, "a")["request_id"]
    pairing.respond(request_id, True, "", CAPACITY, NOW)
    with pytest.raises(DomainError):
        pairing.respond(request_id, False, "", CAPACITY, NOW)
    busy = _open({"b": ["m2"]})
    with pytest.raises(DomainError, match="still waiting"):
        busy.open_choice_round("round-2", {"b": ["m2"]}, CAPACITY, NOW, 48)


def test_replayed_history_gives_the_same_state():
    pairing = _open({"a": ["m1", "m2"], "b": ["m1", "m2"]})
    pairing.respond(_request_of(pairing, "a")["request_id"], False, "", CAPACITY, NOW)
    pairing.expire_due(CAPACITY, NOW + dt.timedelta(days=3))
    again = reloaded(pairing)
    assert again.requests == pairing.requests
    assert again.round == pairing.round
