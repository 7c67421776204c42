"""Meetings, objectives, confidential concerns and program health. Pure Python.

A "relationship" is what people meet in: a one-to-one pair (mentor and mentee) or a coaching
group (its coach as mentor, its members as mentees). Ids of people are enrollment person ids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import statistics
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from services.eventkit.aggregate import Aggregate, DomainError, NotFound
from services.eventkit.contracts.feedback import (
    CONCERN_KINDS,
    DAYS_TO_ANSWER,
    LIKERT_POINTS,
    MAX_DAYS_TO_ANSWER,
    MEETING_MODES,
    OBJECTIVE_AREAS,
    OBJECTIVE_STATUSES,
    SURVEY_ITEM_KINDS,
)
from services.eventkit.envelope import format_time, parse_time

MIN_PEOPLE = 5  # an aggregate describing fewer people is suppressed
MAX_DAYS_AHEAD = 1  # a meeting may be logged at most this many days ahead (time zones)
SUPPRESSED = {"suppressed": True, "reason": f"describes fewer than {MIN_PEOPLE} people"}


@dataclasses.dataclass(frozen=True)
class Relationship:
    id: str
    cycle_id: str
    kind: str  # pair | group
    members: dict[str, str]  # person id -> mentor | mentee
    active: bool
    started_on: dt.date

    def role_of(self, person_id: str) -> str | None:
        return self.members.get(person_id)

    @property
    def mentees(self) -> list[str]:
        return sorted(p for p, r in self.members.items() if r == "mentee")

    @property
    def mentors(self) -> list[str]:
        return sorted(p for p, r in self.members.items() if r == "mentor")


def _clean_texts(values: Iterable[str]) -> list[str]:
    return [v.strip() for v in values if v and v.strip()]


def parse_date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DomainError("Give a date as YYYY-MM-DD.", field) from None


# --- meetings -----------------------------------------------------------------------------------


class Meeting(Aggregate):
    stream_prefix = "meeting"

    def __init__(self, meeting_id: str) -> None:
        super().__init__(meeting_id)
        self.pair_id: str | None = None
        self.cycle_id: str | None = None
        self.logged_by: str | None = None
        self.confirmed_by: str | None = None

    def log(
        self,
        rel: Relationship,
        logged_by: str,
        date: dt.date,
        today: dt.date,
        duration_minutes: int,
        mode: str,
        topics: Sequence[str] = (),
        notes: str = "",
        objectives: Sequence[str] = (),
        action_items: Sequence[str] = (),
        attendees: Sequence[str] = (),
    ) -> None:
        if self.exists:
            raise DomainError("This meeting is logged already.", "meeting_id")
        if rel.role_of(logged_by) is None:
            raise DomainError("Only a member can log a meeting.", "pair_id")
        if not rel.active:
            raise DomainError("This pair has ended; meetings can no longer be logged.", "pair_id")
        if date > today + dt.timedelta(days=MAX_DAYS_AHEAD):
            raise DomainError("A meeting cannot be dated in the future.", "date")
        if date < rel.started_on:
            raise DomainError(
                f"The meeting is dated before the pair existed ({rel.started_on.isoformat()}).",
                "date",
            )
        if not 5 <= duration_minutes <= 600:
            raise DomainError("A meeting lasts 5 to 600 minutes.", "duration_minutes")
        if mode not in MEETING_MODES:
            raise DomainError(f"Mode is one of: {', '.join(MEETING_MODES)}.", "mode")
        strangers = sorted(set(attendees) - set(rel.members))
        if strangers:
            raise DomainError("Only members can be recorded as attending.", "attendees")
        self.record(
            "MeetingLogged", meeting_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            logged_by=logged_by, date=date.isoformat(), duration_minutes=duration_minutes,
            mode=mode, topics=_clean_texts(topics), notes=(notes or "").strip(),
            objectives=_clean_texts(objectives), action_items=_clean_texts(action_items),
            attendees=sorted(set(attendees)),
        )  # fmt: skip

    def confirm(self, rel: Relationship, by: str) -> None:
        if not self.exists:
            raise NotFound("No such meeting.")
        if rel.role_of(by) is None:
            raise DomainError("Only a member can confirm a meeting.", "meeting_id")
        if by == self.logged_by:
            raise DomainError(
                "The other member confirms a meeting, not who logged it.", "meeting_id"
            )
        if self.confirmed_by is not None:
            raise DomainError("This meeting is confirmed already.", "meeting_id")
        self.record(
            "MeetingConfirmed", meeting_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            confirmed_by=by,
        )  # fmt: skip

    def when_meeting_logged(self, p: dict[str, Any]) -> None:
        self.pair_id, self.cycle_id, self.logged_by = p["pair_id"], p["cycle_id"], p["logged_by"]

    def when_meeting_confirmed(self, p: dict[str, Any]) -> None:
        self.confirmed_by = p["confirmed_by"]


# --- objectives ---------------------------------------------------------------------------------


class Objective(Aggregate):
    stream_prefix = "objective"

    def __init__(self, objective_id: str) -> None:
        super().__init__(objective_id)
        self.pair_id: str | None = None
        self.mentee_id: str | None = None
        self.status: str | None = None

    def set(
        self,
        rel: Relationship,
        mentee_id: str,
        area: str,
        title: str,
        by: str,
        description: str = "",
        due_date: dt.date | None = None,
    ) -> None:
        if self.exists:
            raise DomainError("This objective exists already.", "objective_id")
        if rel.role_of(by) is None:
            raise DomainError("Only a member can set an objective.", "pair_id")
        if not rel.active:
            raise DomainError("This pair has ended.", "pair_id")
        if rel.role_of(mentee_id) != "mentee":
            raise DomainError("Objectives belong to a mentee of this pair.", "mentee_id")
        if by != mentee_id and rel.role_of(by) != "mentor":
            raise DomainError("A mentee sets only their own objectives.", "mentee_id")
        if area not in OBJECTIVE_AREAS:
            raise DomainError(f"Area is one of: {', '.join(OBJECTIVE_AREAS)}.", "area")
        title = (title or "").strip()
        if not title:
            raise DomainError("Give the objective a title.", "title")
        self.record(
            "ObjectiveSet", objective_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            mentee_id=mentee_id, area=area, title=title, description=(description or "").strip(),
            due_date=due_date.isoformat() if due_date else None, set_by=by,
        )  # fmt: skip

    def update(self, rel: Relationship, status: str, by: str, note: str = "") -> None:
        if not self.exists:
            raise NotFound("No such objective.")
        if by != self.mentee_id and rel.role_of(by) != "mentor":
            raise DomainError("Only the mentee or their mentor can update it.", "objective_id")
        if status not in OBJECTIVE_STATUSES:
            raise DomainError(f"Status is one of: {', '.join(OBJECTIVE_STATUSES)}.", "status")
        if status == self.status:
            raise DomainError(f"The objective is {status.replace('_', ' ')} already.", "status")
        self.record(
            "ObjectiveUpdated", objective_id=self.id, pair_id=rel.id, mentee_id=self.mentee_id,
            status=status, note=(note or "").strip(), updated_by=by,
        )  # fmt: skip

    def when_objective_set(self, p: dict[str, Any]) -> None:
        self.pair_id, self.mentee_id, self.status = p["pair_id"], p["mentee_id"], "open"

    def when_objective_updated(self, p: dict[str, Any]) -> None:
        self.status = p["status"]


# --- confidential concerns ----------------------------------------------------------------------

RAISED, ACKNOWLEDGED, RESOLVED = "raised", "acknowledged", "resolved"


class Concern(Aggregate):
    stream_prefix = "concern"

    def __init__(self, concern_id: str) -> None:
        super().__init__(concern_id)
        self.status: str | None = None
        self.raised_by: str | None = None
        self.parties: list[str] = []
        self.ack_due: dt.datetime | None = None
        self.escalated: str | None = None  # the reason, once escalated

    def raise_(
        self,
        rel: Relationship,
        raised_by: str,
        kind: str,
        text: str,
        now: dt.datetime,
        ack_hours: int,
        coordinators: set[str],
    ) -> None:
        """`coordinators`: people who coordinate the program's institution. If one of them is a
        party to the concern (the other member), it escalates to the consortium admin at once."""
        if self.exists:
            raise DomainError("This concern exists already.", "concern_id")
        role = rel.role_of(raised_by)
        if role is None:
            raise DomainError("Only a member of the pair can raise a concern about it.", "pair_id")
        if kind not in CONCERN_KINDS:
            raise DomainError(f"Kind is one of: {', '.join(CONCERN_KINDS)}.", "kind")
        text = (text or "").strip()
        if not text:
            raise DomainError("Say what the concern is.", "text")
        parties = sorted(p for p in rel.members if p != raised_by)
        self.record(
            "ConcernRaised", concern_id=self.id, pair_id=rel.id, cycle_id=rel.cycle_id,
            raised_by=raised_by, raiser_role=role, kind=kind, text=text, parties=parties,
            ack_due=format_time(now + dt.timedelta(hours=ack_hours)),
        )  # fmt: skip
        if set(parties) & coordinators:
            self.record("ConcernEscalated", concern_id=self.id, reason="coordinator_party")

    def acknowledge(self, by: str) -> None:
        self._exists()
        if self.status != RAISED:
            raise DomainError(f"The concern is {self.status} already.", "concern_id")
        self.record("ConcernAcknowledged", concern_id=self.id, acknowledged_by=by)

    def resolve(self, by: str, note: str) -> None:
        self._exists()
        note = (note or "").strip()
        if not note:
            raise DomainError("Say how the concern was resolved.", "note")
        if self.status == RAISED:
            raise DomainError("Acknowledge the concern before resolving it.", "concern_id")
        if self.status == RESOLVED:
            raise DomainError("The concern is resolved already.", "concern_id")
        self.record("ConcernResolved", concern_id=self.id, resolved_by=by, note=note)

    def escalate_if_overdue(self, now: dt.datetime) -> bool:
        """Not acknowledged in time: escalate to the consortium admin (once)."""
        self._exists()
        if self.status != RAISED or self.escalated or self.ack_due is None or now < self.ack_due:
            return False
        self.record("ConcernEscalated", concern_id=self.id, reason="not_acknowledged")
        return True

    def _exists(self) -> None:
        if not self.exists:
            raise NotFound("No such concern.")

    def when_concern_raised(self, p: dict[str, Any]) -> None:
        self.status, self.raised_by, self.parties = RAISED, p["raised_by"], list(p["parties"])
        self.ack_due = parse_time(p["ack_due"])

    def when_concern_acknowledged(self, p: dict[str, Any]) -> None:
        self.status = ACKNOWLEDGED

    def when_concern_escalated(self, p: dict[str, Any]) -> None:
        self.escalated = p["reason"]

    def when_concern_resolved(self, p: dict[str, Any]) -> None:
        self.status = RESOLVED


class ConcernAccessLog(Aggregate):
    """Every read of a concern's confidential content, as its own hash-chained stream (so reads
    never conflict with the concern's own changes)."""

    stream_prefix = "concern-access"

    def viewed(self, viewer_id: str, viewer_role: str) -> None:
        self.record(
            "ConfidentialRecordViewed",
            concern_id=self.id, viewer_id=viewer_id, viewer_role=viewer_role,
        )  # fmt: skip


# --- program health and de-identified outcomes --------------------------------------------------


def suppressed_unless(people: set[str], values: dict[str, Any]) -> dict[str, Any]:
    """An aggregate over `people`, or only the fact that it is suppressed (no numbers at all)."""
    if len(people) < MIN_PEOPLE:
        return dict(SUPPRESSED)
    return {"suppressed": False, "people": len(people), **values}


def _share(part: int, whole: int) -> float | None:
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
    `objectives`: dicts with pair_id, mentee_id, status.
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
            "confirmed_share": _share(confirmed, len(mine)),
            "mean_minutes": round(statistics.fmean(m["duration_minutes"] for m in mine), 1)
            if mine
            else None,
            "in_person_share": _share(sum(1 for m in mine if m["mode"] == "in_person"), len(mine)),
            "per_pair_mean": round(statistics.fmean(counts), 2) if counts else None,
            "per_pair_median": statistics.median(counts) if counts else None,
            "pairs_without_meeting_share": _share(sum(1 for c in counts if c == 0), len(counts)),
            "at_risk_share": _share(len(at_risk), len(active)),
        },
    )

    active_ids = set(by_pair)
    obj = [o for o in objectives if o["pair_id"] in active_ids]
    objectives_agg = suppressed_unless(
        {o["mentee_id"] for o in obj},
        {
            "objectives": len(obj),
            "by_status": {s: sum(1 for o in obj if o["status"] == s) for s in OBJECTIVE_STATUSES},
            "done_share": _share(sum(1 for o in obj if o["status"] == "done"), len(obj)),
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
                        "confirmed_share": _share(
                            sum(1 for m in theirs if m["confirmed"]), len(theirs)
                        ),
                    },
                ),
            }
        )
    return {
        "inactive_days": inactive_days,
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
                        "pairs_met_share": _share(
                            sum(1 for ms in held.values() if ms), len(cohort)
                        ),
                        "confirmed_share": _share(
                            sum(1 for m in meetings if m["confirmed"]), len(meetings)
                        ),
                    },
                ),
            }
        )
        month = following
    return trends


def pseudonym(key: str, kind: str, value: str) -> str:
    """A stable pseudonymous id: HMAC-SHA256 of the id under a secret key, shortened."""
    return hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:20]


EXPORT_COLUMNS = (
    "participant",
    "role",
    "relationship",
    "mentor",
    "meetings_logged",
    "meetings_confirmed",
    "minutes_met",
    "objectives_set",
    "objectives_done",
)


def export_rows(
    relationships: Sequence[Relationship],
    meetings: Sequence[dict[str, Any]],
    objectives: Sequence[dict[str, Any]],
    key: str,
) -> list[dict[str, Any]]:
    """De-identified outcome rows, one per member of each relationship: pseudonymous ids and
    counts only (no names, emails, dates or free text). Empty when the export would describe
    fewer than MIN_PEOPLE people."""
    people = {p for r in relationships for p in r.members}
    if len(people) < MIN_PEOPLE:
        return []
    rows = []
    for r in relationships:
        ms = [m for m in meetings if m["pair_id"] == r.id]
        mentor = r.mentors[0] if r.mentors else None
        for person_id, role in sorted(r.members.items()):
            objs = [o for o in objectives if o["pair_id"] == r.id and o["mentee_id"] == person_id]
            rows.append(
                {
                    "participant": pseudonym(key, "person", person_id),
                    "role": role,
                    "relationship": pseudonym(key, r.kind, r.id),
                    "mentor": pseudonym(key, "person", mentor) if mentor else "",
                    "meetings_logged": len(ms),
                    "meetings_confirmed": sum(1 for m in ms if m["confirmed"]),
                    "minutes_met": sum(m["duration_minutes"] for m in ms),
                    "objectives_set": len(objs),
                    "objectives_done": sum(1 for o in objs if o["status"] == "done"),
                }
            )
    return sorted(rows, key=lambda row: (row["relationship"], row["participant"]))


# --- surveys ------------------------------------------------------------------------------------

DEFAULT_LIKERT_LABELS = ("Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree")
TEXT_MAX_LENGTH = 2000
_SURVEY_NS = uuid.UUID("5b0f7c1e-2a55-4c4e-9a8e-7f3c2d1b0a99")


def stable_id(*parts: str) -> str:
    """A deterministic id (UUID 5) from its parts: the same inputs always name the same thing, so
    a second worker or a restart appends to the same stream and the store refuses the duplicate."""
    return str(uuid.uuid5(_SURVEY_NS, "\x1f".join(parts)))


def normalize_items(items: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A template's items, checked and completed; DomainError names `items.<n>.<field>`."""
    if not items:
        raise DomainError("A survey needs at least one item.", "items")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for n, raw in enumerate(items):
        kind = raw.get("kind")
        where = f"items.{n}"
        if kind not in SURVEY_ITEM_KINDS:
            raise DomainError(f"Kind is one of: {', '.join(SURVEY_ITEM_KINDS)}.", f"{where}.kind")
        prompt = (raw.get("prompt") or "").strip()
        if not prompt:
            raise DomainError("Give the item a prompt.", f"{where}.prompt")
        item_id = (raw.get("item_id") or f"q{n + 1}").strip()
        if item_id in seen:
            raise DomainError("Item ids must be unique.", f"{where}.item_id")
        seen.add(item_id)
        item: dict[str, Any] = {
            "item_id": item_id, "kind": kind, "prompt": prompt,
            "required": bool(raw.get("required", True)), "labels": [], "options": [],
            "max_length": None,
        }  # fmt: skip
        if kind == "likert":
            labels = _clean_texts(raw.get("labels") or []) or list(DEFAULT_LIKERT_LABELS)
            if len(labels) != LIKERT_POINTS:
                raise DomainError(
                    f"A Likert item has {LIKERT_POINTS} labels, for 1 to {LIKERT_POINTS}.",
                    f"{where}.labels",
                )
            item["labels"] = labels
        elif kind == "choice":
            options = _clean_texts(raw.get("options") or [])
            if len(options) < 2:
                raise DomainError("A choice item has at least two options.", f"{where}.options")
            if len(set(options)) != len(options):
                raise DomainError("Options must differ from each other.", f"{where}.options")
            item["options"] = options
        else:
            limit = raw.get("max_length") or TEXT_MAX_LENGTH
            if not 1 <= int(limit) <= TEXT_MAX_LENGTH:
                raise DomainError(
                    f"A text answer is at most {TEXT_MAX_LENGTH} characters.", f"{where}.max_length"
                )
            item["max_length"] = int(limit)
        out.append(item)
    return out


def answer_errors(items: Sequence[dict[str, Any]], answers: dict[str, Any]) -> dict[str, str]:
    """Why each answer does not fit its item ({item_id: message}); empty when all are valid."""
    errors: dict[str, str] = {}
    known = {i["item_id"] for i in items}
    for item_id in answers:
        if item_id not in known:
            errors[item_id] = "This survey has no such item."
    for item in items:
        value = answers.get(item["item_id"])
        if isinstance(value, str) and item["kind"] != "likert":
            value = value.strip() or None
        if value is None:
            if item["required"]:
                errors[item["item_id"]] = "An answer is required."
            continue
        if item["kind"] == "likert":
            if isinstance(value, bool) or not isinstance(value, int):
                errors[item["item_id"]] = f"Answer with a whole number from 1 to {LIKERT_POINTS}."
            elif not 1 <= value <= LIKERT_POINTS:
                errors[item["item_id"]] = f"Answer from 1 to {LIKERT_POINTS}."
        elif item["kind"] == "choice":
            if value not in item["options"]:
                errors[item["item_id"]] = f"Choose one of: {', '.join(item['options'])}."
        elif not isinstance(value, str):
            errors[item["item_id"]] = "Answer with text."
        elif len(value) > item["max_length"]:
            errors[item["item_id"]] = f"At most {item['max_length']} characters."
    return errors


def clean_answers(items: Sequence[dict[str, Any]], answers: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        value = answers.get(item["item_id"])
        if isinstance(value, str):
            value = value.strip() or None
        out[item["item_id"]] = value
    return out


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class SurveyTemplate(Aggregate):
    stream_prefix = "survey-template"

    def define(
        self,
        institution_id: str,
        name: str,
        items: Sequence[dict[str, Any]],
        by: str,
        description: str = "",
        builtin: str | None = None,
    ) -> None:
        if self.exists:
            raise DomainError("This template exists already.", "template_id")
        name = (name or "").strip()
        if not name:
            raise DomainError("Give the template a name.", "name")
        self.record(
            "SurveyTemplateDefined", template_id=self.id, institution_id=institution_id,
            name=name, description=(description or "").strip(), builtin=builtin,
            items=normalize_items(items), defined_by=by,
        )  # fmt: skip


class SurveySchedule(Aggregate):
    """One template scheduled for one cycle (its id is stable_id(cycle, template): once)."""

    stream_prefix = "survey-schedule"

    def schedule(
        self,
        template_id: str,
        cycle_id: str,
        months: Iterable[int],
        by: str,
        days_to_answer: int = DAYS_TO_ANSWER,
    ) -> None:
        if self.exists:
            raise DomainError("This survey is scheduled for this cycle already.", "template_id")
        chosen = sorted(set(months))
        if not chosen:
            raise DomainError(
                "Give the months of the cycle to issue it at (the cycle has no review months).",
                "months",
            )
        if any(not 0 <= m <= 60 for m in chosen):
            raise DomainError("Months are 0 to 60 from the start of the cycle.", "months")
        if not 1 <= days_to_answer <= MAX_DAYS_TO_ANSWER:
            raise DomainError(
                f"Give people 1 to {MAX_DAYS_TO_ANSWER} days to answer.", "days_to_answer"
            )
        self.record(
            "SurveyScheduled", schedule_id=self.id, template_id=template_id, cycle_id=cycle_id,
            months=chosen, scheduled_by=by, days_to_answer=days_to_answer,
        )  # fmt: skip


class SurveyInstance(Aggregate):
    """A scheduled month's survey; its id is stable_id(schedule, month) so it is issued once."""

    stream_prefix = "survey-instance"

    def issue(
        self,
        schedule_id: str,
        template_id: str,
        cycle_id: str,
        month: int,
        issued_on: dt.date,
        relationships: Sequence[Relationship],
        days_to_answer: int = DAYS_TO_ANSWER,
    ) -> bool:
        """Issue once, on the scheduled day `issued_on`, to be answered within `days_to_answer`."""
        if self.exists:
            return False
        recipients = {}
        for rel in relationships:
            if rel.active:
                for person_id, role in rel.members.items():
                    recipients.setdefault(person_id, {"pair_id": rel.id, "role": role})
        self.record(
            "SurveyIssued", instance_id=self.id, schedule_id=schedule_id,
            template_id=template_id, cycle_id=cycle_id, month=month,
            issued_on=issued_on.isoformat(),
            due_on=(issued_on + dt.timedelta(days=days_to_answer)).isoformat(),
            recipients=[{"person_id": p, **v} for p, v in sorted(recipients.items())],
        )  # fmt: skip
        return True


class SurveyResponse(Aggregate):
    """One person's response to one instance (id stable_id(instance, person)): a second submit
    is a new revision of the same response, never a second response."""

    stream_prefix = "survey-response"

    def __init__(self, response_id: str) -> None:
        super().__init__(response_id)
        self.revision = 0

    def answer(
        self,
        instance_id: str,
        person_id: str,
        recipients: Iterable[str],
        items: Sequence[dict[str, Any]],
        answers: dict[str, Any],
    ) -> None:
        if person_id not in set(recipients):
            raise DomainError("This survey was not issued to you.", "instance_id")
        errors = answer_errors(items, answers)
        if errors:
            item_id, message = sorted(errors.items())[0]
            raise DomainError(message, f"answers.{item_id}")
        self.record(
            "SurveyAnswered", instance_id=instance_id, person_id=person_id,
            revision=self.revision + 1, answers=clean_answers(items, answers),
        )  # fmt: skip

    def when_survey_answered(self, p: dict[str, Any]) -> None:
        self.revision = p["revision"]


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
                        "rate": _share(len(theirs), len(recipients)),
                    },
                ),
                "likert": items,
            }
        )
    return out


# The ready-made set: seeded per institution on request (or listed as built-ins).
BUILTIN_TEMPLATES: dict[str, dict[str, Any]] = {
    "semiannual_review": {
        "name": "Semiannual review",
        "description": "Twice a year: is the pair meeting, how often, and is it helping?",
        "months": [6, 12],
        "items": [
            {"item_id": "meeting", "kind": "choice", "prompt": "Are you meeting?",
             "options": ["Yes, regularly", "Sometimes", "Not at all"]},
            {"item_id": "frequency", "kind": "choice", "prompt": "How often do you meet?",
             "options": ["Weekly", "Every two weeks", "Monthly", "Less than monthly", "Never"]},
            {"item_id": "helpful", "kind": "likert", "prompt": "The mentoring is helpful to me.",
             "labels": list(DEFAULT_LIKERT_LABELS)},
            {"item_id": "better", "kind": "text", "required": False,
             "prompt": "What would make it better?"},
        ],
    },
    "end_of_cycle": {
        "name": "End-of-cycle evaluation",
        "description": "At the end of the cycle: overall value, objectives, would you continue?",
        "months": [12],
        "items": [
            {"item_id": "overall", "kind": "likert",
             "prompt": "Overall, the program was valuable to me."},
            {"item_id": "objectives", "kind": "likert",
             "prompt": "We made progress on the objectives we set."},
            {"item_id": "match", "kind": "likert", "prompt": "My pairing was a good match."},
            {"item_id": "continue", "kind": "choice",
             "prompt": "Would you take part again (or recommend the program)?",
             "options": ["Yes", "Maybe", "No"]},
            {"item_id": "highlight", "kind": "text", "required": False,
             "prompt": "What was most useful?"},
            {"item_id": "change", "kind": "text", "required": False,
             "prompt": "What should the program change?"},
        ],
    },
    "group_session": {
        "name": "Group coaching session feedback",
        "description": "After a group coaching session.",
        "months": [3, 6, 9, 12],
        "items": [
            {"item_id": "useful", "kind": "likert", "prompt": "The session was useful to me."},
            {"item_id": "voice", "kind": "likert",
             "prompt": "I had the chance to raise what mattered to me."},
            {"item_id": "pace", "kind": "choice", "prompt": "The pace of the session was",
             "options": ["Too slow", "About right", "Too fast"]},
            {"item_id": "next", "kind": "text", "required": False,
             "prompt": "What should the next session cover?"},
        ],
    },
}  # fmt: skip
