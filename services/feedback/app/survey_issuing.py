"""Issuing scheduled surveys: which (schedule, month) pairs are due by the clock's today, and
the round that issues each exactly once, the worker's loop and the operators' route alike.

An instance's id is stable_id(schedule, month), so its stream is the same for every worker and
after every restart: issuing appends at version 0, and the store (optimistic concurrency on the
stream, and the unique key on the instance table) refuses a second SurveyIssued.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from services.eventkit import ConcurrencyError, Runtime
from services.eventkit.envelope import parse_time

from ..domain.surveys import SurveyInstance, add_months, stable_id
from ..readmodels import roster, surveys
from .unit_of_work import Clock, unit_of_work


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
