"""Program health: aggregates over a cycle's relationships, meetings, objectives and surveys,
each suppressed when it describes fewer than MIN_PEOPLE people."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Sequence
from typing import Any

from services.eventkit.contracts.feedback import OBJECTIVE_AREAS, OBJECTIVE_STATUSES

from .relationships import Relationship, parse_date

UNIT_KINDS = ("pair", "group", "family")
MIN_PEOPLE = 5  # an aggregate describing fewer people is suppressed
SUPPRESSED = {"suppressed": True, "reason": f"describes fewer than {MIN_PEOPLE} people"}


def suppressed_unless(people: set[str], values: dict[str, Any]) -> dict[str, Any]:
    """An aggregate over `people`, or only the fact that it is suppressed (no numbers at all)."""
    if len(people) < MIN_PEOPLE:
        return dict(SUPPRESSED)
    return {"suppressed": False, "people": len(people), **values}


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def program_health(
    relationships: Sequence[Relationship],
    meetings: Sequence[dict[str, Any]],
    objectives: Sequence[dict[str, Any]],
    today: dt.date,
    inactive_days: int,
) -> dict[str, Any]:
    """Health of a cycle's active relationships.

    `meetings`: dicts with pair_id, date (ISO), duration_minutes, mode, confirmed (bool).
    `objectives`: dicts with pair_id, mentee_id, status, area, steps (their statuses).
    At-risk pairs are listed (coordinators act on them); every number is an aggregate and is
    suppressed when it describes fewer than MIN_PEOPLE people.
    """
    active = [r for r in relationships if r.active]
    by_pair: dict[str, list[dict[str, Any]]] = {r.id: [] for r in active}
    for m in meetings:
        if m["pair_id"] in by_pair:
            by_pair[m["pair_id"]].append(m)
    everyone = {p for r in active for p in r.members}

    at_risk = []
    cutoff = today - dt.timedelta(days=inactive_days)
    for r in active:
        dates = [parse_date(m["date"], "date") for m in by_pair[r.id]]
        last = max(dates) if dates else None
        if (last or r.started_on) <= cutoff:
            at_risk.append(
                {
                    "pair_id": r.id,
                    "kind": r.kind,
                    "member_ids": sorted(r.members),
                    "last_meeting": last.isoformat() if last else None,
                    "days_without_meeting": (today - (last or r.started_on)).days,
                }
            )

    counts = [len(by_pair[r.id]) for r in active]
    mine = [m for ms in by_pair.values() for m in ms]
    confirmed = sum(1 for m in mine if m["confirmed"])
    meetings_agg = suppressed_unless(
        everyone,
        {
            "pairs": len(active),
            "meetings": len(mine),
            "confirmed_share": share(confirmed, len(mine)),
            "mean_minutes": round(statistics.fmean(m["duration_minutes"] for m in mine), 1)
            if mine
            else None,
            "in_person_share": share(sum(1 for m in mine if m["mode"] == "in_person"), len(mine)),
            "per_pair_mean": round(statistics.fmean(counts), 2) if counts else None,
            "per_pair_median": statistics.median(counts) if counts else None,
            "pairs_without_meeting_share": share(sum(1 for c in counts if c == 0), len(counts)),
            "at_risk_share": share(len(at_risk), len(active)),
        },
    )

    active_ids = set(by_pair)
    obj = [o for o in objectives if o["pair_id"] in active_ids]
    steps = [status for o in obj for status in o.get("steps", ())]
    objectives_agg = suppressed_unless(
        {o["mentee_id"] for o in obj},
        {
            "objectives": len(obj),
            "by_status": {s: sum(1 for o in obj if o["status"] == s) for s in OBJECTIVE_STATUSES},
            "done_share": share(sum(1 for o in obj if o["status"] == "done"), len(obj)),
            "by_area": {a: sum(1 for o in obj if o.get("area") == a) for a in OBJECTIVE_AREAS},
            "steps": len(steps),
            "steps_done_share": share(steps.count("done"), len(steps)),
        },
    )

    mentors: dict[str, list[Relationship]] = {}
    for r in active:
        for mentor_id in r.mentors:
            mentors.setdefault(mentor_id, []).append(r)
    outcomes = []
    for mentor_id, rels in sorted(mentors.items()):
        theirs = [m for r in rels for m in by_pair[r.id]]
        people = {p for r in rels for p in r.members}
        outcomes.append(
            {
                "mentor_id": mentor_id,
                "outcome": suppressed_unless(
                    people,
                    {
                        "pairs": len(rels),
                        "meetings_logged": len(theirs),
                        "meetings_per_pair": round(len(theirs) / len(rels), 2),
                        "confirmed_share": share(
                            sum(1 for m in theirs if m["confirmed"]), len(theirs)
                        ),
                    },
                ),
            }
        )
    return {
        "inactive_days": inactive_days,
        # How many pairs, coaching groups and families are active (a unit counts once). Not
        # suppressed: how many units there are says nothing of anyone in them.
        "units": {kind: sum(1 for r in active if r.kind == kind) for kind in UNIT_KINDS},
        "at_risk": at_risk,
        "meetings": meetings_agg,
        "objectives": objectives_agg,
        "mentor_outcomes": outcomes,
        "trends": monthly_trends(active, by_pair, today),
    }


MAX_TREND_MONTHS = 24


def monthly_trends(
    active: Sequence[Relationship], by_pair: dict[str, list[dict[str, Any]]], today: dt.date
) -> list[dict[str, Any]]:
    """Month by month over the cycle: meetings logged, the share of pairs that met, and the share
    confirmed. Each month describes every relationship started by its end, so a quiet month shows
    as zero rather than vanishing; it is suppressed when that cohort is under MIN_PEOPLE people."""
    if not active:
        return []
    month = min(r.started_on for r in active).replace(day=1)
    last = today.replace(day=1)
    trends = []
    while month <= last and len(trends) < MAX_TREND_MONTHS:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        cohort = [r for r in active if r.started_on < following]
        held = {
            r.id: [m for m in by_pair[r.id] if month <= parse_date(m["date"], "date") < following]
            for r in cohort
        }
        meetings = [m for ms in held.values() for m in ms]
        trends.append(
            {
                "month": month.strftime("%Y-%m"),
                **suppressed_unless(
                    {p for r in cohort for p in r.members},
                    {
                        "meetings": len(meetings),
                        "pairs_met_share": share(sum(1 for ms in held.values() if ms), len(cohort)),
                        "confirmed_share": share(
                            sum(1 for m in meetings if m["confirmed"]), len(meetings)
                        ),
                    },
                ),
            }
        )
        month = following
    return trends


def survey_health(
    instances: Sequence[dict[str, Any]],
    templates: dict[str, dict[str, Any]],
    responses: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Per issued instance: the response rate and the mean of each Likert item, each suppressed
    when it describes fewer than MIN_PEOPLE people.

    `instances`: dicts with instance_id, template_id, month, due_on, recipients (person ids).
    `responses`: the latest revision per person: dicts with instance_id, person_id, answers.
    """
    out = []
    for inst in instances:
        template = templates.get(inst["template_id"], {"name": "", "items": []})
        recipients = set(inst["recipients"])
        theirs = [
            r
            for r in responses
            if r["instance_id"] == inst["instance_id"] and r["person_id"] in recipients
        ]
        items = []
        for item in template["items"]:
            if item["kind"] != "likert":
                continue
            values = {
                r["person_id"]: r["answers"].get(item["item_id"])
                for r in theirs
                if isinstance(r["answers"].get(item["item_id"]), int)
            }
            items.append(
                {
                    "item_id": item["item_id"],
                    "prompt": item["prompt"],
                    "mean": suppressed_unless(
                        set(values),
                        {
                            "responses": len(values),
                            "mean": round(statistics.fmean(values.values()), 2),
                        }
                        if values
                        else {},
                    ),
                }
            )
        out.append(
            {
                "instance_id": inst["instance_id"],
                "template_id": inst["template_id"],
                "template": template["name"],
                "month": inst["month"],
                "due_on": inst["due_on"],
                "response_rate": suppressed_unless(
                    recipients,
                    {
                        "issued": len(recipients),
                        "responded": len(theirs),
                        "rate": share(len(theirs), len(recipients)),
                    },
                ),
                "likert": items,
            }
        )
    return out
