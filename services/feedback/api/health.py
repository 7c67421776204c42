"""Program health, the de-identified export and consortium-wide outcomes: aggregates only, every
one describing fewer than 5 people suppressed. The program's coordinators see whom to contact;
the consortium admin sees pseudonyms."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import sqlalchemy as sa
from flask import Response
from flask_smorest import Blueprint

from services.eventkit.access import capacity, consortium, guard
from services.eventkit.audit import record_access
from services.eventkit.config import env, token_key
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Who

from .. import access, relationships
from .. import concerns as timers
from .. import readmodels as rm
from ..domain.health import MIN_PEOPLE, program_health, suppressed_unless, survey_health
from ..domain.outcomes import EXPORT_COLUMNS, export_rows, pseudonym
from ..domain.relationships import Relationship
from .schemas import HealthQuery, OutcomesQuery

blp = Blueprint("health", __name__, url_prefix="/api", description="Program health and outcomes")


def _cycle_data(conn: sa.Connection, cycle_id: str):
    rels = relationships.cycle_relationships(conn, cycle_id)
    m, o = rm.meetings, rm.objectives
    meetings = [
        {
            "pair_id": r.pair_id,
            "date": r.met_on,
            "duration_minutes": r.duration_minutes,
            "mode": r.mode,
            "confirmed": r.confirmed_by is not None,
        }
        for r in conn.execute(sa.select(m).where(m.c.cycle_id == cycle_id))
    ]
    objectives = [
        {"pair_id": r.pair_id, "mentee_id": r.mentee_id, "status": r.status}
        for r in conn.execute(sa.select(o).where(o.c.cycle_id == cycle_id))
    ]
    return rels, meetings, objectives


@blp.route("/cycles/<cycle_id>/health", methods=["GET"])
@guard("cycle.health", access.cycle)
@blp.arguments(HealthQuery, location="query")
@blp.response(200)
def cycle_health(query, cycle_id):
    """Pairs with no meeting in `inactive_days` (at risk), meeting frequency, objectives,
    outcomes per mentor, and per issued survey its response rate and Likert means. Every
    aggregate describing fewer than 5 people is suppressed. The program's coordinators see names;
    the consortium admin sees pseudonyms."""
    with runtime().reading() as conn:
        rels, meetings, objectives = _cycle_data(conn, cycle_id)
        health = program_health(
            rels, meetings, objectives, timers.clock().date(), query["inactive_days"]
        )
        if capacity() == Who.COORDINATOR:  # coordinators see whom to contact
            names = relationships.names(conn, {p for r in rels for p in r.members})
            for pair in health["at_risk"]:
                pair["names"] = [names.get(p) for p in pair["member_ids"]]
            for outcome in health["mentor_outcomes"]:
                outcome["mentor_name"] = names.get(outcome["mentor_id"])
        else:  # the consortium admin sees de-identified health
            key = export_key()
            for pair in health["at_risk"]:
                pair["pair_id"] = pseudonym(key, pair["kind"], pair["pair_id"])
                pair["member_ids"] = [pseudonym(key, "person", p) for p in pair["member_ids"]]
            for outcome in health["mentor_outcomes"]:
                outcome["mentor_id"] = pseudonym(key, "person", outcome["mentor_id"])
        health["surveys"] = _survey_health(conn, cycle_id)
        return {"cycle_id": cycle_id, **health}


def export_key() -> str:
    return env("FEEDBACK_EXPORT_KEY", "") or token_key()


EXPORT_CSV_RESPONSE = {
    "description": "One row per participant; columns: " + ", ".join(EXPORT_COLUMNS) + ".",
    "content": {"text/csv": {"schema": {"type": "string"}}},
    "headers": {
        "Content-Disposition": {"schema": {"type": "string"}},
        "X-Tandem-Suppressed": {
            "description": "Present when the cycle has fewer than 5 people and no rows are given",
            "schema": {"type": "string"},
        },
    },
}


@blp.route("/cycles/<cycle_id>/export.csv", methods=["GET"])
@guard("cycle.health", access.cycle)
@blp.doc(responses={"200": EXPORT_CSV_RESPONSE})
def export_outcomes(cycle_id):
    """De-identified outcome data as CSV: pseudonymous ids (HMAC) and counts only. No rows when
    the cycle has fewer than 5 people (the header X-Tandem-Suppressed says so)."""
    rt = runtime()
    with rt.engine.begin() as conn:
        rels, meetings, objectives = _cycle_data(conn, cycle_id)
        rows = export_rows(rels, meetings, objectives, export_key())
        cycle = relationships.cycle(conn, cycle_id)
        # Recorded before a row leaves, in the consortium audit trail.
        record_access(
            rt, conn, "RecordsExported", request_meta(cycle["institution_id"]),
            what="de-identified outcomes", cycle_id=cycle_id, program_id=cycle["program_id"],
            rows=len(rows),
        )  # fmt: skip
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    response = Response(out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="outcomes-{dt.date.today().isoformat()}.csv"'
    )
    if not rows:
        response.headers["X-Tandem-Suppressed"] = "fewer than 5 people"
    return response


def _survey_health(conn: sa.Connection, cycle_id: str) -> list[dict]:
    i, r, t = rm.survey_instances, rm.survey_recipients, rm.survey_templates
    instances = conn.execute(sa.select(i).where(i.c.cycle_id == cycle_id).order_by(i.c.due_on))
    instances = [dict(x) for x in instances.mappings()]
    if not instances:
        return []
    ids = [x["instance_id"] for x in instances]
    recipients: dict[str, list[str]] = {}
    for x in conn.execute(sa.select(r).where(r.c.instance_id.in_(ids))):
        recipients.setdefault(x.instance_id, []).append(x.person_id)
    for x in instances:
        x["recipients"] = recipients.get(x["instance_id"], [])
    templates = {
        x["template_id"]: {"name": x["name"], "items": x["items"]}
        for x in conn.execute(
            sa.select(t).where(t.c.template_id.in_({x["template_id"] for x in instances}))
        ).mappings()
    }
    s = rm.survey_responses
    responses = [
        {"instance_id": x.instance_id, "person_id": x.person_id, "answers": x.answers}
        for x in conn.execute(sa.select(s).where(s.c.instance_id.in_(ids)))
    ]
    return survey_health(instances, templates, responses)


# --- consortium-wide outcomes (consortium admin) ------------------------------------------------


@dataclasses.dataclass
class _Tally:
    """What one program (or one institution) adds up to over its cycles."""

    cycles: set[str] = dataclasses.field(default_factory=set)
    relationships: list[Relationship] = dataclasses.field(default_factory=list)
    meetings: dict[str, list[dict]] = dataclasses.field(default_factory=dict)  # by relationship
    issued: set[tuple[str, str]] = dataclasses.field(default_factory=set)  # (instance, person)
    responded: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    likert: dict[str, list[int]] = dataclasses.field(default_factory=dict)  # by person

    def add(self, other: _Tally) -> None:
        self.cycles |= other.cycles
        self.relationships += other.relationships
        self.meetings.update(other.meetings)
        self.issued |= other.issued
        self.responded |= other.responded
        for person, values in other.likert.items():
            self.likert.setdefault(person, []).extend(values)

    def outcome(self) -> dict:
        members = {p for r in self.relationships for p in r.members}
        counts = [len(self.meetings.get(r.id, [])) for r in self.relationships]
        held = [m for r in self.relationships for m in self.meetings.get(r.id, [])]

        def share(part: int, whole: int) -> float | None:
            return round(part / whole, 3) if whole else None

        answers = [v for values in self.likert.values() for v in values]
        return {
            "cycles": len(self.cycles),
            "pairs": suppressed_unless(
                members,
                {
                    "pairs": sum(1 for r in self.relationships if r.kind == "pair"),
                    "groups": sum(1 for r in self.relationships if r.kind == "group"),
                },
            ),
            "meetings": suppressed_unless(
                members,
                {
                    "meetings": len(held),
                    "per_pair_mean": round(len(held) / len(counts), 2) if counts else None,
                    "confirmed_share": share(sum(1 for m in held if m["confirmed"]), len(held)),
                    "pairs_without_meeting_share": share(
                        sum(1 for c in counts if c == 0), len(counts)
                    ),
                },
            ),
            "surveys": suppressed_unless(
                {person for _, person in self.issued},
                {
                    "issued": len(self.issued),
                    "responded": len(self.responded),
                    "rate": share(len(self.responded), len(self.issued)),
                },
            ),
            "likert": suppressed_unless(
                set(self.likert),
                {
                    "answers": len(answers),
                    "mean": round(sum(answers) / len(answers), 2) if answers else None,
                },
            ),
        }


def _cycle_tally(conn: sa.Connection, cycle_id: str) -> _Tally:
    rels, meetings, _ = _cycle_data(conn, cycle_id)
    tally = _Tally(cycles={cycle_id}, relationships=[r for r in rels if r.active])
    for r in tally.relationships:
        tally.meetings[r.id] = []
    for m in meetings:
        if m["pair_id"] in tally.meetings:
            tally.meetings[m["pair_id"]].append(m)
    i, r, s, t = rm.survey_instances, rm.survey_recipients, rm.survey_responses, rm.survey_templates
    instances = conn.execute(
        sa.select(i.c.instance_id, t.c["items"])
        .join(t, t.c.template_id == i.c.template_id)
        .where(i.c.cycle_id == cycle_id)
    ).all()
    likert_items = {
        x.instance_id: {item["item_id"] for item in x.items if item["kind"] == "likert"}
        for x in instances
    }
    if not likert_items:
        return tally
    ids = list(likert_items)
    tally.issued = {
        (x.instance_id, x.person_id)
        for x in conn.execute(sa.select(r).where(r.c.instance_id.in_(ids)))
    }
    for x in conn.execute(sa.select(s).where(s.c.instance_id.in_(ids))):
        if (x.instance_id, x.person_id) not in tally.issued:
            continue
        tally.responded.add((x.instance_id, x.person_id))
        for item_id in likert_items[x.instance_id]:
            value = x.answers.get(item_id)
            if isinstance(value, int):
                tally.likert.setdefault(x.person_id, []).append(value)
    return tally


@blp.route("/outcomes", methods=["GET"])
@guard("consortium.outcomes", consortium)
@blp.arguments(OutcomesQuery, location="query")
@blp.response(200)
def consortium_outcomes(query):
    """De-identified outcomes of every institution and each of its programs, over all their
    cycles: pairs, meeting frequency, survey response rates and Likert means. Consortium admin
    only; every figure describing fewer than 5 people is suppressed. No person ids at all."""
    c = rm.cycles
    select = sa.select(c.c.id, c.c.institution_id, c.c.program_id)
    if query["institution_id"]:
        select = select.where(c.c.institution_id == query["institution_id"])
    programs: dict[tuple[str, str], _Tally] = {}
    with runtime().reading() as conn:
        for cycle in conn.execute(select).all():
            key = (cycle.institution_id, cycle.program_id)
            programs.setdefault(key, _Tally()).add(_cycle_tally(conn, cycle.id))
    institutions: dict[str, _Tally] = {}
    for (institution_id, _), tally in programs.items():
        institutions.setdefault(institution_id, _Tally()).add(tally)
    return {
        "min_people": MIN_PEOPLE,
        "institutions": [
            {
                "institution_id": institution_id,
                **total.outcome(),
                "programs": [
                    {"program_id": program_id, **tally.outcome()}
                    for (inst, program_id), tally in sorted(programs.items())
                    if inst == institution_id
                ],
            }
            for institution_id, total in sorted(institutions.items())
        ],
    }
