"""Groups and families are what a group-coaching or families cycle publishes: never their members
as one-to-one pairs. Re-runs keep them (and grow them under the same id); a member may ask for a
rematch; a coordinator ends the whole unit."""

from __future__ import annotations

import pytest
from replay import reloaded

from services.eventkit import DomainError
from services.eventkit.envelope import new_id
from services.pairing.domain.cycle_pairing import CyclePairing

RUN = {"min_level_gap": 0, "cross_institution": False, "weights": {}}


def _pair(mentee: str, mentor: str, co: str | None = None, pinned: bool = False) -> dict:
    return {"mentee_id": mentee, "mentor_id": mentor, "co_mentor_id": co, "score": 1.0,
            "breakdown": {}, "pinned": pinned}  # fmt: skip


def _run(pairing: CyclePairing, algorithm: str, pairs: list[dict], families=()) -> str:
    run_id = new_id()
    proposal = {"algorithm": algorithm, "pairs": pairs, "unmatched": [],
                "blocking_pairs": None, "families": list(families)}  # fmt: skip
    pairing.propose(run_id, {"algorithm": algorithm, **RUN}, proposal)
    return run_id


def _published(pairing: CyclePairing) -> list:
    """The events of the last publish."""
    types = [e.event_type for e in pairing.pending]
    last = len(types) - 1 - types[::-1].index("ProposalGenerated")
    return pairing.pending[last + 1 :]


def _groups_of_five() -> CyclePairing:
    pairing = CyclePairing("cycle-g")
    students = [f"s{n}" for n in range(10)]
    _run(
        pairing,
        "groups",
        [_pair(s, "coach-a" if n < 5 else "coach-b") for n, s in enumerate(students)],
    )
    pairing.publish()
    return pairing


def test_a_groups_run_publishes_one_group_per_coach_and_no_pair():
    pairing = _groups_of_five()
    published = _published(pairing)
    assert [e.event_type for e in published] == ["GroupFormed", "GroupFormed", "PairingPublished"]
    a, b = (e.payload for e in published[:2])
    assert (a["coach_id"], a["member_ids"]) == ("coach-a", ["s0", "s1", "s2", "s3", "s4"])
    assert (b["coach_id"], b["member_ids"]) == ("coach-b", ["s5", "s6", "s7", "s8", "s9"])
    assert published[-1].payload | {"run_id": None} == {
        "run_id": None, "cycle_id": "cycle-g", "pairs_created": 0, "groups_formed": 2,
        "families_formed": 0,
    }  # fmt: skip
    assert reloaded(pairing).active_pairs() == []
    assert len(reloaded(pairing).active_units()) == 2


def test_group_ids_are_stable_and_a_rerun_grows_the_group_it_keeps():
    pairing = _groups_of_five()
    first = {e.payload["coach_id"]: e.payload["group_id"] for e in _published(pairing)[:2]}
    pairing = reloaded(pairing)
    assert ("s0", "coach-a") in pairing.pins() and len(pairing.pins()) == 10
    # A late student joins coach A's group: the same group, now of six; B's is unchanged.
    _run(pairing, "groups", [_pair("s0", "coach-a", pinned=True), _pair("late", "coach-a"),
                             _pair("s5", "coach-b", pinned=True)])  # fmt: skip
    pairing.publish()
    published = _published(pairing)
    assert [e.event_type for e in published] == ["GroupFormed", "PairingPublished"]
    assert published[0].payload["group_id"] == first["coach-a"]
    assert published[0].payload["member_ids"] == ["late", "s0", "s1", "s2", "s3", "s4"]


def test_a_member_asks_for_a_rematch_and_the_coordinator_ends_the_group():
    pairing = _groups_of_five()
    group = next(u for u in pairing.active_units() if u["lead_id"] == "coach-a")
    with pytest.raises(DomainError, match="Only a member"):
        pairing.request_rematch(group["unit_id"], "s5", "")
    pairing.request_rematch(group["unit_id"], "s2", "another coach, please")
    assert pairing.pending[-1].event_type == "RematchRequested"
    with pytest.raises(DomainError, match="reason for ending the group"):
        pairing.end_pair(group["unit_id"], " ")
    pairing.end_pair(group["unit_id"], "the coach left")
    assert pairing.pending[-1].event_type == "GroupEnded"
    pairing = reloaded(pairing)
    assert [u["lead_id"] for u in pairing.active_units()] == ["coach-b"]
    assert pairing.units[group["unit_id"]]["active"] is False
    assert ("s0", "coach-a") not in pairing.pins()  # its members are paired afresh
    with pytest.raises(DomainError, match="ended already"):
        pairing.end_pair(group["unit_id"], "again")
    with pytest.raises(DomainError, match="ended already"):
        pairing.request_rematch(group["unit_id"], "s1", "")


FAMILIES = [
    {"senior_id": "senior-a", "mid_id": "mid-a", "junior_ids": ["intern-a", "pgy2-a"],
     "total_score": 2.0},
    {"senior_id": "senior-b", "mid_id": "mid-b", "junior_ids": ["intern-b", "pgy2-b"],
     "total_score": 2.0},
]  # fmt: skip


def _families() -> CyclePairing:
    pairing = CyclePairing("cycle-f")
    pairs = [_pair(j, f["senior_id"], f["mid_id"]) for f in FAMILIES for j in f["junior_ids"]]
    _run(pairing, "families", pairs, FAMILIES)
    pairing.publish()
    return pairing


def test_a_families_run_publishes_families_and_no_pair():
    pairing = _families()
    published = _published(pairing)
    assert [e.event_type for e in published] == ["FamilyFormed", "FamilyFormed", "PairingPublished"]
    assert published[0].payload | {"family_id": None, "run_id": None} == {
        "family_id": None, "run_id": None, "cycle_id": "cycle-f", "senior_id": "senior-a",
        "mid_id": "mid-a", "junior_ids": ["intern-a", "pgy2-a"],
    }  # fmt: skip
    assert published[-1].payload["families_formed"] == 2
    assert published[-1].payload["pairs_created"] == 0
    pins = reloaded(pairing).pins()  # each junior with the senior and the mid-level
    assert ("intern-a", "senior-a") in pins and ("intern-a", "mid-a") in pins and len(pins) == 8


def test_a_junior_the_coordinator_took_out_is_not_in_the_family():
    pairing = CyclePairing("cycle-f")
    pairs = [_pair(j, f["senior_id"], f["mid_id"]) for f in FAMILIES for j in f["junior_ids"]]
    _run(pairing, "families", pairs, FAMILIES)
    check = lambda *_: ([], 1.0, {})  # noqa: E731
    pairing.edit("unassign", "pgy2-b", "on leave", check, lambda _: 2)
    pairing.publish()
    formed = [e.payload for e in _published(pairing) if e.event_type == "FamilyFormed"]
    assert [f["junior_ids"] for f in formed] == [["intern-a", "pgy2-a"], ["intern-b"]]


def test_a_family_member_asks_for_a_rematch_and_the_family_ends():
    pairing = _families()
    family = next(u for u in pairing.active_units() if u["lead_id"] == "senior-b")
    assert family["roles"] == {"senior-b": "senior", "mid-b": "mid", "intern-b": "junior",
                               "pgy2-b": "junior"}  # fmt: skip
    pairing.request_rematch(family["unit_id"], "mid-b", "moving away")
    pairing.end_pair(family["unit_id"], "the mid-level moved away")
    assert pairing.pending[-1].event_type == "FamilyEnded"
    assert len(reloaded(pairing).active_units()) == 1


def test_one_to_one_runs_still_publish_pairs():
    pairing = CyclePairing("cycle-p")
    _run(pairing, "optimal", [_pair("a", "m1"), _pair("b", "m2")])
    pairing.publish()
    assert [e.event_type for e in _published(pairing)] == [
        "PairCreated", "PairCreated", "PairingPublished",
    ]  # fmt: skip
