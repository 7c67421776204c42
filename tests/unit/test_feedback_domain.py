"""The feedback domain's rules: meetings, objectives, concerns, health and export (who may
act on them: test_feedback_access)."""

import datetime as dt

import pytest

from services.eventkit.aggregate import DomainError, NotFound
from services.eventkit.contracts.feedback import registry
from services.feedback.domain.concerns import Concern, ConcernAccessLog
from services.feedback.domain.health import (
    MIN_PEOPLE,
    SUPPRESSED,
    program_health,
    suppressed_unless,
)
from services.feedback.domain.meetings import Meeting
from services.feedback.domain.objectives import Objective
from services.feedback.domain.outcomes import export_rows, pseudonym
from services.feedback.domain.relationships import Relationship

TODAY = dt.date(2026, 3, 10)
NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
PAIR = Relationship(
    id="p1", cycle_id="c1", kind="pair", members={"mentor": "mentor", "mentee": "mentee"},
    active=True, started_on=dt.date(2026, 1, 1),
)  # fmt: skip
GROUP = Relationship(
    id="g1", cycle_id="c1", kind="group",
    members={"coach": "mentor", "a": "mentee", "b": "mentee", "c": "mentee"},
    active=True, started_on=dt.date(2026, 1, 1),
)  # fmt: skip


def _valid(events):
    """Every recorded payload passes its published contract."""
    for e in events:
        registry.get(e.event_type).validate(e.payload)
    return [e.event_type for e in events]


def _log(meeting, rel=PAIR, by="mentee", **kw):
    args = {"date": TODAY, "today": TODAY, "duration_minutes": 30, "mode": "virtual", **kw}
    meeting.log(rel, by, **args)


def test_a_member_logs_a_meeting_and_the_other_confirms():
    m = Meeting("m1")
    _log(m, topics=[" cv ", ""], action_items=["send CV"])
    m.confirm(PAIR, "mentor")
    assert _valid(m.pending) == ["MeetingLogged", "MeetingConfirmed"]
    assert m.pending[0].payload["topics"] == ["cv"]
    with pytest.raises(DomainError, match="confirmed already"):
        m.confirm(PAIR, "mentor")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": TODAY + dt.timedelta(days=2)}, "date"),
        ({"date": dt.date(2025, 12, 31)}, "date"),  # before the pair existed
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 601}, "duration_minutes"),
        ({"mode": "phone"}, "mode"),
        ({"attendees": ["stranger"]}, "attendees"),
    ],
)
def test_meeting_values_are_checked(change, field):
    m = Meeting("m1")
    with pytest.raises(DomainError) as refused:
        _log(m, **change)
    assert refused.value.field == field and not m.pending


def test_meeting_rules_about_people():
    _log(Meeting("ok"), date=TODAY + dt.timedelta(days=1))  # a day ahead is allowed
    with pytest.raises(DomainError):
        _log(Meeting("m"), by="stranger")
    ended = Relationship(**{**PAIR.__dict__, "active": False})
    with pytest.raises(DomainError, match="ended"):
        _log(Meeting("m"), rel=ended)
    m = Meeting("m")
    _log(m)
    with pytest.raises(DomainError, match="other member"):
        m.confirm(PAIR, "mentee")
    with pytest.raises(DomainError):
        m.confirm(PAIR, "stranger")
    with pytest.raises(NotFound):
        Meeting("none").confirm(PAIR, "mentor")


def test_group_meetings_record_attendance():
    m = Meeting("m")
    _log(m, rel=GROUP, by="coach", attendees=["a", "b", "coach"])
    assert m.pending[0].payload["attendees"] == ["a", "b", "coach"]
    m.confirm(GROUP, "c")  # any other member confirms
    assert _valid(m.pending) == ["MeetingLogged", "MeetingConfirmed"]


def test_objectives_and_their_status_over_time():
    o = Objective("o1")
    o.set(PAIR, "mentee", "interviews", "Mock interview", by="mentor")
    o.update(PAIR, "in_progress", "mentee", "booked")
    o.update(PAIR, "done", "mentor")
    assert _valid(o.pending) == ["ObjectiveSet", "ObjectiveUpdated", "ObjectiveUpdated"]
    with pytest.raises(DomainError, match="already"):
        o.update(PAIR, "done", "mentee")
    with pytest.raises(DomainError) as bad:
        Objective("x").set(PAIR, "mentee", "astrology", "t", by="mentee")
    assert bad.value.field == "area"
    with pytest.raises(DomainError) as not_mentee:
        Objective("x").set(PAIR, "mentor", "resume", "t", by="mentor")
    assert not_mentee.value.field == "mentee_id"
    with pytest.raises(DomainError):
        Objective("x").set(GROUP, "b", "resume", "t", by="a")  # a mentee sets only their own


def test_concern_lifecycle():
    c = Concern("k1")
    c.raise_(PAIR, "mentee", "no_contact", " no reply ", NOW, 72, coordinators={"someone"})
    assert c.pending[0].payload["parties"] == ["mentor"]
    assert c.pending[0].payload["text"] == "no reply"
    with pytest.raises(DomainError, match="Acknowledge"):
        c.resolve("coord", "note")
    c.acknowledge("coord")
    with pytest.raises(DomainError) as no_note:
        c.resolve("coord", "  ")
    assert no_note.value.field == "note"
    c.resolve("coord", "talked")
    assert _valid(c.pending) == ["ConcernRaised", "ConcernAcknowledged", "ConcernResolved"]
    with pytest.raises(DomainError):
        c.acknowledge("coord")


def test_concern_escalates_at_once_when_a_coordinator_is_a_party():
    c = Concern("k1")
    c.raise_(PAIR, "mentee", "boundary", "text", NOW, 72, coordinators={"mentor"})
    assert _valid(c.pending) == ["ConcernRaised", "ConcernEscalated"]
    assert c.pending[1].payload["reason"] == "coordinator_party"
    assert c.escalate_if_overdue(NOW + dt.timedelta(days=10)) is False  # escalated already


def test_concern_escalates_once_when_not_acknowledged_in_time():
    c = Concern("k1")
    c.raise_(PAIR, "mentor", "rematch", "text", NOW, 72, coordinators=set())
    assert c.escalate_if_overdue(NOW + dt.timedelta(hours=71)) is False
    assert c.escalate_if_overdue(NOW + dt.timedelta(hours=72)) is True
    assert c.escalate_if_overdue(NOW + dt.timedelta(hours=80)) is False
    assert c.pending[-1].payload == {"concern_id": "k1", "reason": "not_acknowledged"}
    acked = Concern("k2")
    acked.raise_(PAIR, "mentor", "rematch", "text", NOW, 72, coordinators=set())
    acked.acknowledge("coord")
    assert acked.escalate_if_overdue(NOW + dt.timedelta(days=30)) is False


def test_concern_refusals():
    with pytest.raises(DomainError):
        Concern("k").raise_(PAIR, "stranger", "other", "t", NOW, 72, set())
    with pytest.raises(DomainError) as kind:
        Concern("k").raise_(PAIR, "mentee", "gossip", "t", NOW, 72, set())
    assert kind.value.field == "kind"
    with pytest.raises(DomainError) as text:
        Concern("k").raise_(PAIR, "mentee", "other", "   ", NOW, 72, set())
    assert text.value.field == "text"
    with pytest.raises(NotFound):
        Concern("none").acknowledge("coord")


def test_access_log_records_views():
    log = ConcernAccessLog("k1")
    log.viewed("coord", "coordinator")
    assert _valid(log.pending) == ["ConfidentialRecordViewed"]
    assert log.stream_id == "concern-access-k1"


def test_suppression_below_five_people():
    assert suppressed_unless({"a", "b", "c", "d"}, {"n": 4}) == {
        "suppressed": True,
        "reason": f"describes fewer than {MIN_PEOPLE} people",
    }
    assert suppressed_unless({"a", "b", "c", "d", "e"}, {"n": 5}) == {
        "suppressed": False,
        "people": 5,
        "n": 5,
    }


def _pair(n, mentor="m0", started=dt.date(2026, 1, 1)):
    return Relationship(f"p{n}", "c1", "pair", {mentor: "mentor", f"e{n}": "mentee"}, True, started)


def test_health_at_risk_and_per_mentor_suppression():
    rels = [_pair(n, mentor="m0" if n < 4 else "m1") for n in range(6)]
    meetings = [
        {"pair_id": "p0", "date": "2026-03-01", "duration_minutes": 30, "mode": "virtual", "confirmed": True},
        {"pair_id": "p4", "date": "2026-01-15", "duration_minutes": 60, "mode": "in_person", "confirmed": False},
    ]  # fmt: skip
    health = program_health(rels, meetings, [], TODAY, inactive_days=30)
    assert {p["pair_id"] for p in health["at_risk"]} == {"p1", "p2", "p3", "p4", "p5"}
    p4 = next(p for p in health["at_risk"] if p["pair_id"] == "p4")
    assert p4["last_meeting"] == "2026-01-15" and p4["days_without_meeting"] == 54
    assert health["meetings"]["people"] == 8 and health["meetings"]["meetings"] == 2
    assert health["meetings"]["confirmed_share"] == 0.5
    by_mentor = {o["mentor_id"]: o["outcome"] for o in health["mentor_outcomes"]}
    assert by_mentor["m0"]["suppressed"] is False and by_mentor["m0"]["people"] == 5
    assert by_mentor["m0"]["meetings_per_pair"] == 0.25
    assert by_mentor["m1"] == suppressed_unless(set(), {})  # 3 people
    # A young pair is not at risk before N days have passed since it started.
    young = program_health([_pair(9, started=TODAY)], [], [], TODAY, 30)
    assert young["at_risk"] == [] and young["meetings"]["suppressed"] is True


def test_export_is_pseudonymous_and_suppressed_below_five():
    rels = [_pair(n) for n in range(4)]  # 5 people
    meetings = [{"pair_id": "p0", "date": "2026-03-01", "duration_minutes": 30, "mode": "virtual", "confirmed": True}]  # fmt: skip
    objectives = [{"pair_id": "p0", "mentee_id": "e0", "status": "done"}]
    rows = export_rows(rels, meetings, objectives, "k" * 32)
    assert len(rows) == 8
    e0 = next(r for r in rows if r["participant"] == pseudonym("k" * 32, "person", "e0"))
    assert e0["meetings_logged"] == 1 and e0["objectives_done"] == 1
    assert e0["mentor"] == pseudonym("k" * 32, "person", "m0")
    ids = {"e0", "e1", "e2", "e3", "m0", "p0", "p1", "p2", "p3"}
    assert not ids & {v for r in rows for v in r.values()}
    assert all(len(r["participant"]) == 20 and len(r["relationship"]) == 20 for r in rows)
    assert pseudonym("k" * 32, "person", "e0") != pseudonym("j" * 32, "person", "e0")
    assert export_rows(rels[:3], meetings, objectives, "k" * 32) == []  # 4 people


def test_trends_go_month_by_month_and_show_quiet_months_as_zero():
    rels = [_pair(n, mentor=f"m{n}", started=dt.date(2026, 1, 10)) for n in range(3)]
    rels.append(_pair(3, mentor="m3", started=dt.date(2026, 2, 20)))  # joins in February
    meeting = {"duration_minutes": 30, "mode": "virtual"}
    meetings = [
        {**meeting, "pair_id": "p0", "date": "2026-01-20", "confirmed": True},
        {**meeting, "pair_id": "p1", "date": "2026-01-25", "confirmed": False},
        {**meeting, "pair_id": "p0", "date": "2026-03-02", "confirmed": True},
    ]
    trends = program_health(rels, meetings, [], dt.date(2026, 3, 15), inactive_days=30)["trends"]
    assert [t["month"] for t in trends] == ["2026-01", "2026-02", "2026-03"]
    january, february, march = trends
    assert january == {"month": "2026-01", "suppressed": False, "people": 6, "meetings": 2,
                       "pairs_met_share": round(2 / 3, 3), "confirmed_share": 0.5}  # fmt: skip
    assert (february["meetings"], february["pairs_met_share"], february["people"]) == (0, 0.0, 8)
    assert february["confirmed_share"] is None
    assert (march["meetings"], march["pairs_met_share"]) == (1, 0.25)


def test_trends_are_suppressed_for_a_small_cohort():
    rels = [_pair(n, mentor=f"m{n}", started=dt.date(2026, 1, 10)) for n in range(2)]
    meetings = [
        {
            "pair_id": "p0",
            "date": "2026-01-20",
            "duration_minutes": 30,
            "mode": "virtual",
            "confirmed": True,
        }
    ]
    (january,) = program_health(rels, meetings, [], dt.date(2026, 1, 31), inactive_days=30)[
        "trends"
    ]
    assert january == {"month": "2026-01", **SUPPRESSED}
    assert "meetings" not in january
