"""Program health, the de-identified export and consortium-wide outcomes, from the read models:
the coordinators of a cycle's program see whom to contact, everyone else pseudonyms (keyed by
FEEDBACK_EXPORT_KEY); every aggregate describing fewer than MIN_PEOPLE people is suppressed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.eventkit.audit import AccessLog
from services.eventkit.config import env, token_key
from services.eventkit.envelope import new_id

from ..domain.health import MIN_PEOPLE, program_health, survey_health
from ..domain.outcomes import Tally, export_rows, pseudonym
from ..readmodels import meetings as meeting_rows
from ..readmodels import objectives as objective_rows
from ..readmodels import roster, surveys
from .unit_of_work import UnitOfWork


def export_key() -> str:
    return env("FEEDBACK_EXPORT_KEY", "") or token_key()


def _cycle_data(conn: sa.Connection, cycle_id: str):
    """The cycle's relationships, and what health counts of its meetings and objectives."""
    return (
        roster.cycle_relationships(conn, cycle_id),
        meeting_rows.of_cycle(conn, cycle_id),
        objective_rows.of_cycle(conn, cycle_id),
    )


def cycle_health(
    conn: sa.Connection, cycle_id: str, today: dt.date, inactive_days: int, with_names: bool
) -> dict[str, Any]:
    """The cycle's health as of `today`: with names for whom to contact (`with_names`, the
    program's coordinators), else with pseudonymous ids; and each issued survey's figures."""
    rels, meetings, objectives = _cycle_data(conn, cycle_id)
    health = program_health(rels, meetings, objectives, today, inactive_days)
    if with_names:
        names = roster.names(conn, {p for r in rels for p in r.members})
        for pair in health["at_risk"]:
            pair["names"] = [names.get(p) for p in pair["member_ids"]]
        for outcome in health["mentor_outcomes"]:
            outcome["mentor_name"] = names.get(outcome["mentor_id"])
    else:
        key = export_key()
        for pair in health["at_risk"]:
            pair["pair_id"] = pseudonym(key, pair["kind"], pair["pair_id"])
            pair["member_ids"] = [pseudonym(key, "person", p) for p in pair["member_ids"]]
        for outcome in health["mentor_outcomes"]:
            outcome["mentor_id"] = pseudonym(key, "person", outcome["mentor_id"])
    health["surveys"] = _survey_health(conn, cycle_id)
    return {"cycle_id": cycle_id, **health}


def export(uow: UnitOfWork, cycle_id: str) -> list[dict[str, Any]]:
    """The cycle's de-identified outcome rows, the export recorded in the consortium audit trail
    (RecordsExported) before a row leaves."""
    rels, meetings, objectives = _cycle_data(uow.conn, cycle_id)
    rows = export_rows(rels, meetings, objectives, export_key())
    cycle = roster.cycle(uow.conn, cycle_id)
    log = AccessLog(new_id())
    log.record(
        "RecordsExported", what="de-identified outcomes", cycle_id=cycle_id,
        program_id=cycle["program_id"], rows=len(rows),
    )  # fmt: skip
    uow.save_about(log, cycle["institution_id"])
    return rows


def _survey_health(conn: sa.Connection, cycle_id: str) -> list[dict]:
    return survey_health(*surveys.health_inputs(conn, cycle_id))


# --- consortium-wide outcomes -------------------------------------------------------------------


def _cycle_tally(conn: sa.Connection, cycle_id: str) -> Tally:
    rels, meetings, _ = _cycle_data(conn, cycle_id)
    tally = Tally(cycles={cycle_id}, relationships=[r for r in rels if r.active])
    for r in tally.relationships:
        tally.meetings[r.id] = []
    for m in meetings:
        if m["pair_id"] in tally.meetings:
            tally.meetings[m["pair_id"]].append(m)
    tally.issued, answered = surveys.likert_answers(conn, cycle_id)
    for instance_id, person_id, values in answered:
        if (instance_id, person_id) not in tally.issued:
            continue
        tally.responded.add((instance_id, person_id))
        for value in values:
            if isinstance(value, int):
                tally.likert.setdefault(person_id, []).append(value)
    return tally


def consortium_outcomes(conn: sa.Connection, institution_id: str | None) -> dict[str, Any]:
    """Every institution's outcomes (or one's) and each of its programs', over all their cycles;
    no person ids at all."""
    programs: dict[tuple[str, str], Tally] = {}
    for cycle in roster.cycles_of(conn, institution_id):
        key = (cycle.institution_id, cycle.program_id)
        programs.setdefault(key, Tally()).add(_cycle_tally(conn, cycle.id))
    institutions: dict[str, Tally] = {}
    for (inst, _), tally in programs.items():
        institutions.setdefault(inst, Tally()).add(tally)
    return {
        "min_people": MIN_PEOPLE,
        "institutions": [
            {
                "institution_id": inst_id,
                **total.outcome(),
                "programs": [
                    {"program_id": program_id, **tally.outcome()}
                    for (inst, program_id), tally in sorted(programs.items())
                    if inst == inst_id
                ],
            }
            for inst_id, total in sorted(institutions.items())
        ],
    }
