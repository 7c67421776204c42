"""A cycle's eligible levels: setting them before the first run, and previewing whom they (or
rules a coordinator is still choosing) leave out, person by person."""

from __future__ import annotations

from typing import Any

from services.eventkit import Metadata
from services.eventkit.unit_of_work import UnitOfWork

from ..domain import level_preview, level_rules
from ..domain.cycle_pairing import CyclePairing
from ..readmodels import views
from ..readmodels.candidate_pool import load_pool
from .cycle_pairing import load, save

LEVEL_EVENTS = ("LevelRulesSet", "PairingRunRequested")


def set_level_rules(uow: UnitOfWork, cycle_id: str, rules: dict[str, Any], meta: Metadata) -> None:
    cycle, pairing = load(uow, cycle_id)
    pairing.set_level_rules(cycle["pairing_format"], rules)
    save(uow, cycle, pairing, meta)


def level_rules_view(
    uow: UnitOfWork, cycle_id: str, proposed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The cycle's rules (or `proposed` ones, checked but not recorded), whether they can still
    change, and who they leave out with names, levels and reasons."""
    cycle = views.cycle(uow.conn, cycle_id)
    # Only the levels and the run count are needed: a published cycle's stream holds a
    # PairCreated per pair, not replayed here.
    pairing = uow.read_part(CyclePairing, cycle_id, LEVEL_EVENTS)
    pairing_format = cycle["pairing_format"]
    if proposed is not None:
        rules = level_rules.checked(pairing_format, proposed)
    elif pairing.level_rules is not None:
        rules = pairing.level_rules
    else:
        gap = views.run_settings(uow.conn, cycle_id).get("min_level_gap", 2)
        rules = level_rules.default_rules(gap)
    mentees, mentors = load_pool(uow.conn, cycle_id, profiles=False)
    rows = level_preview.left_out(
        pairing_format, rules, mentees, mentors, bool(cycle["cross_institution"])
    )
    names = views.names(uow.conn, {r["person_id"] for r in rows})
    return {
        "cycle_id": cycle_id,
        "pairing_format": pairing_format,
        "rules": rules,
        "is_set": pairing.level_rules is not None,
        "editable": pairing.runs == 0,
        "mentees": len(mentees),
        "mentors": len(mentors),
        "counts": level_preview.counts(rows),
        "left_out": [{**r, "name": names.get(r["person_id"])} for r in rows],
    }
