"""Running pairing on a cycle: the pool and the rules as the read models give them, the pins a
re-run keeps, the engine, and the draft proposal it records."""

from __future__ import annotations

from typing import Any

from services.eventkit import Metadata
from services.eventkit.envelope import new_id
from services.eventkit.metrics import PAIRING_RUN, timed
from services.eventkit.unit_of_work import UnitOfWork

from ..domain import runs
from ..readmodels import views
from ..readmodels.candidate_pool import load_pool, training_levels
from .cycle_pairing import load, save

# The engine's run time, by algorithm (the engine itself stays pure).
run_engine = timed(PAIRING_RUN, lambda algorithm, *_args, **_kw: algorithm)(runs.run_engine)


def run_pairing(uow: UnitOfWork, cycle_id: str, params: dict[str, Any], meta: Metadata) -> str:
    """Run pairing and record a draft proposal (it replaces the previous draft). Pinned pairs and
    active published pairs are kept, and `keep_pairs_from_cycle` adds an earlier cycle's; excluded
    people stay out. Returns the run's id."""
    params = dict(params)
    if params["algorithm"] == "random" and params["seed"] is None:
        # A seed is drawn and recorded with the run, so the run can be reproduced.
        params["seed"] = int(new_id().replace("-", "")[:8], 16)
    cycle, pairing = load(uow, cycle_id)
    mentees, mentors = load_pool(uow.conn, cycle_id)
    runs.check_pool(mentees, mentors)
    runs.check_algorithm(cycle["pairing_format"], params["algorithm"])
    rules = runs.rules_for(cycle, params)
    pins = pairing.pins()
    if params.get("keep_pairs_from_cycle"):
        previous = views.cycle(uow.conn, params["keep_pairs_from_cycle"])
        runs.check_previous_cycle(cycle, previous)
        pins += runs.pairs_to_keep(
            views.pair_rows(uow.conn, previous["id"]), mentees, mentors, rules
        )
    settings = {
        **params,
        "group_size": cycle["group_size"],
        "levels": training_levels(uow.conn, [m.id for m in mentors]),
    }
    result = run_engine(
        params["algorithm"], mentees, mentors, rules, settings, pins, pairing.excluded
    )
    run = {
        **params,
        "cross_institution": bool(cycle["cross_institution"]),
        "weights": dict(rules.weights),
    }
    run_id = new_id()
    pairing.propose(run_id, run, runs.proposal_payload(params["algorithm"], result))
    save(uow, cycle, pairing, meta)
    return run_id
