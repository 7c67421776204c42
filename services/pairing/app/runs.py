"""Running pairing on a cycle: the pool and the rules as the read models give them, the pins a
re-run keeps, the engine, and the draft proposal it records."""

from __future__ import annotations

from typing import Any

from services.eventkit import Metadata
from services.eventkit.envelope import new_id
from services.eventkit.metrics import PAIRING_RUN, timed
from services.eventkit.unit_of_work import UnitOfWork

from ..domain import level_preview, runs
from ..readmodels import views
from ..readmodels.candidate_pool import load_pool
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
    levels = pairing.level_rules
    rules = runs.rules_for(cycle, params, levels)
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
        "level_rules": levels,
    }
    result = run_engine(
        params["algorithm"], mentees, mentors, rules, settings, pins, pairing.excluded
    )
    if levels is not None:  # the reasons name the level rule that left each person out
        left_out = level_preview.left_out(
            cycle["pairing_format"], levels, mentees, mentors, bool(cycle["cross_institution"])
        )
        result.unmatched = level_preview.name_the_rule(result.unmatched, left_out)
    run = {
        **params,
        "min_level_gap": rules.min_level_gap,
        "cross_institution": bool(cycle["cross_institution"]),
        "weights": dict(rules.weights),
        "level_rules": levels,
    }
    run_id = new_id()
    pairing.propose(run_id, run, runs.proposal_payload(params["algorithm"], result))
    save(uow, cycle, pairing, meta)
    return run_id
