"""A proposal for a large roster is stored whole but published as a summary, so it never meets
the broker's message size limit; the pairing API still serves the whole draft."""

from __future__ import annotations

import json

import sqlalchemy as sa

from services.eventkit.contracts.pairing import ProposalGeneratedOnWire, proposal_summary
from services.eventkit.envelope import Metadata, new_id
from services.eventkit.migrations import upgrade
from services.eventkit.relay import event_max_bytes
from services.eventkit.service import Runtime
from services.pairing import readmodels as rm
from services.pairing.domain.cycle_pairing import CyclePairing
from services.pairing.service import SERVICE

RULES = ("specialty", "interests", "goals", "language", "meeting_mode", "ranking", "identity")


def _big_proposal(mentees: int) -> dict:
    return {
        "algorithm": "optimal",
        "pairs": [
            {
                "mentee_id": new_id(),
                "mentor_id": new_id(),
                "score": 0.8123,
                "breakdown": {rule: 0.1161 for rule in RULES},
                "pinned": False,
            }
            for _ in range(mentees)
        ],
        "unmatched": [{"person_id": new_id(), "reason": "no mentor left with room"}] * 1500,
        "blocking_pairs": None,
    }


def test_a_5000_person_proposal_goes_on_the_wire_as_a_summary(database_url):
    upgrade(SERVICE.migrations, database_url)
    rt = Runtime(SERVICE, database_url)
    cycle_id = new_id()
    pairing = CyclePairing(cycle_id)
    run = {"algorithm": "optimal", "seed": None, "min_level_gap": 2, "cross_institution": False,
           "weights": {}, "candidates_per_mentee": None}  # fmt: skip
    pairing.propose(new_id(), run, _big_proposal(3500))
    try:
        with rt.engine.begin() as conn:
            stored = rt.save(conn, pairing, Metadata("inst-1"))
        generated = next(e for e in stored if e.event_type == "ProposalGenerated")
        assert len(generated.to_json()) > 1_048_576  # the whole draft would not fit the broker

        outbox = SERVICE.tables.outbox
        with rt.reading() as conn:
            message = conn.execute(
                sa.select(outbox.c.message).where(outbox.c.event_id == generated.event_id)
            ).scalar_one()
            draft = conn.execute(
                sa.select(rm.proposals.c.draft).where(rm.proposals.c.cycle_id == cycle_id)
            ).scalar_one()
        assert len(message) < 2000 < event_max_bytes()
        published = json.loads(message)
        assert published["event_id"] == generated.event_id
        assert published["hash"] == generated.hash  # the stored event's, checkable in the store
        summary = ProposalGeneratedOnWire().load(published["payload"])
        assert summary["pair_count"] == 3500 and summary["unmatched_count"] == 1500
        assert summary["proposal_path"] == f"/api/cycles/{cycle_id}/proposal"
        # The read model, fed from the store, still has every pair for the API to serve.
        assert len(draft["pairs"]) == 3500

        # Loaded back from the store, the aggregate has the whole draft too.
        with rt.reading() as conn:
            again = rt.load(conn, CyclePairing, cycle_id)
        assert again.draft is not None and len(again.draft["pairs"]) == 3500
    finally:
        rt.engine.dispose()


def test_the_summary_reads_full_and_summarised_payloads_alike():
    full = {"run_id": "r", "cycle_id": "c", **_big_proposal(3)}
    once = proposal_summary(full)
    assert once == proposal_summary(once)
    assert once["pair_count"] == 3 and once["summary"] is True
