"""Issuing surveys: which scheduled (schedule, month) pairs are due by the clock's today, and
the round that issues each exactly once, the worker's loop and the operators' route alike; and a
coordinator's survey issued now, to a cycle's pairs and groups or some of them.

An instance's id is stable_id(schedule, month), so its stream is the same for every worker and
after every restart: issuing appends at version 0, and the store (optimistic concurrency on the
stream, and the unique key on the instance table) refuses a second SurveyIssued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.eventkit import ConcurrencyError, DomainError, Runtime
from services.eventkit.envelope import new_id, parse_time

from ..domain.health import program_health
from ..domain.relationships import Relationship
from ..domain.surveys import SurveyInstance, add_months, stable_id
from ..readmodels import meetings as meeting_rows
from ..readmodels import roster, surveys
from .unit_of_work import Clock, UnitOfWork, unit_of_work


def instance_id(schedule_id: str, month: int) -> str:
    return stable_id("survey-instance", schedule_id, str(month))


def cycle_start(cycle: sa.RowMapping | dict) -> dt.date:
    """When a cycle's months count from: its `starts_on` if it has one, else when it opened."""
    starts_on = cycle.get("starts_on") if hasattr(cycle, "get") else None
    if starts_on:
        return dt.date.fromisoformat(str(starts_on)[:10])
    return parse_time(cycle["opened_at"]).date()


def due(conn: sa.Connection, today: dt.date) -> list[dict[str, Any]]:
    """Scheduled (schedule, month) pairs whose day of issue has come and that are not issued yet."""
    issued = surveys.issued_ids(conn)
    out = []
    for row in surveys.schedules_to_issue(conn):
        start = cycle_start(row)
        for month in row["months"]:
            issue_on = add_months(start, month)
            iid = instance_id(row["schedule_id"], month)
            if issue_on <= today and iid not in issued:
                out.append(
                    {
                        "instance_id": iid, "schedule_id": row["schedule_id"],
                        "template_id": row["template_id"], "cycle_id": row["cycle_id"],
                        "institution_id": row["institution_id"] or row["cycle_institution"],
                        "month": month, "issue_on": issue_on,
                        "days_to_answer": row["days_to_answer"],
                    }
                )  # fmt: skip
    return out


def issue_due(runtime: Runtime, clock: Clock) -> list[str]:
    """Issue every due survey instance to the cycle's active pair members, each exactly once (each
    in its own transaction); the ids issued."""
    today = clock().date()
    with runtime.reading() as conn:
        pending = due(conn, today)
    issued = []
    for d in pending:
        try:
            with unit_of_work(runtime, clock) as uow:
                instance = uow.load(SurveyInstance, d["instance_id"])
                if instance.issue(
                    d["schedule_id"], d["template_id"], d["cycle_id"], d["month"], d["issue_on"],
                    roster.cycle_relationships(uow.conn, d["cycle_id"]),
                    d["days_to_answer"],
                ):  # fmt: skip
                    uow.save_about(instance, d["institution_id"])
                    issued.append(d["instance_id"])
        except (ConcurrencyError, sa.exc.IntegrityError):
            continue  # another worker issued it meanwhile
    return issued


def month_of_cycle(start: dt.date, today: dt.date) -> int:
    """Whole months from the cycle's start to `today` (0 before the first month is out)."""
    months = (today.year - start.year) * 12 + today.month - start.month
    if months > 0 and add_months(start, months) > today:
        months -= 1
    return max(0, min(months, 60))


def audience_of(
    conn: sa.Connection,
    cycle_id: str,
    audience: str,
    relationship_ids: list[str],
    today: dt.date,
    inactive_days: int,
) -> list[Relationship]:
    """The cycle's pairs and groups a survey issued now goes to: all, those chosen, or those at
    risk (no meeting in `inactive_days`, as program health counts them)."""
    rels = roster.cycle_relationships(conn, cycle_id)
    if audience == "chosen":
        known = {r.id for r in rels}
        unknown = [x for x in relationship_ids if x not in known]
        if unknown or not relationship_ids:
            raise DomainError("Choose pairs or groups of this cycle.", "relationship_ids")
        return [r for r in rels if r.id in set(relationship_ids)]
    if audience == "at_risk":
        health = program_health(
            rels, meeting_rows.of_cycle(conn, cycle_id), [], today, inactive_days
        )
        at_risk = {pair["pair_id"] for pair in health["at_risk"]}
        return [r for r in rels if r.id in at_risk]
    return rels


def issue_now(
    uow: UnitOfWork,
    cycle_id: str,
    template_id: str,
    audience: str,
    relationship_ids: list[str],
    days_to_answer: int,
    inactive_days: int,
    by: str,
) -> str:
    """A coordinator issues one of the institution's templates now to the cycle's pairs and groups
    (all, chosen, or at risk); the new instance's id."""
    cycle = roster.cycle(uow.conn, cycle_id)
    template = surveys.template_or_none(uow.conn, template_id)
    if template is None or template["institution_id"] != cycle["institution_id"]:
        raise DomainError("No such template in this cycle's institution.", "template_id")
    today = uow.clock().date()
    chosen = audience_of(uow.conn, cycle_id, audience, relationship_ids, today, inactive_days)
    instance = SurveyInstance(new_id())
    instance.issue_now(
        template_id, cycle_id, month_of_cycle(cycle_start(cycle), today), today, chosen,
        days_to_answer, by, audience,
    )  # fmt: skip
    uow.save_about(instance, cycle["institution_id"])
    return instance.id
