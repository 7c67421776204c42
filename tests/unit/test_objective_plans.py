"""A mentee's action plan: statement, steps, comments, agreement and order (who may change
them), and what health counts of them."""

import datetime as dt

import pytest

from services.eventkit.aggregate import DomainError, NotFound
from services.eventkit.contracts.feedback import registry
from services.feedback.domain.health import program_health
from services.feedback.domain.meetings import Meeting
from services.feedback.domain.objectives import MAX_STEPS, Objective
from services.feedback.domain.relationships import Relationship

START = dt.date(2026, 1, 1)
PAIR = Relationship("p1", "c1", "pair", {"mentor": "mentor", "mentee": "mentee"}, True, START)
GROUP = Relationship(
    "g1", "c1", "group", {"coach": "mentor", "a": "mentee", "b": "mentee"}, True, START
)
ENDED = Relationship("p1", "c1", "pair", {"mentor": "mentor", "mentee": "mentee"}, False, START)


def _valid(events):
    for e in events:
        registry.get(e.event_type).validate(e.payload)
    return [e.event_type for e in events]


def _objective(rel=PAIR, mentee="mentee", by="mentee"):
    o = Objective("o1")
    o.set(rel, mentee, "resume", "Send a CV to three programs", by=by)
    return o


def test_the_mentee_plans_steps_the_mentor_comments_and_agrees():
    o = _objective()
    o.plan_step(PAIR, "mentee", "s1", "Draft the CV", dt.date(2026, 2, 1))
    o.plan_step(PAIR, "mentor", "s1", "Draft the CV", dt.date(2026, 2, 1), "done")
    o.comment(PAIR, "mentor", "Add the research poster.")
    o.agree(PAIR, "mentor")
    assert o.steps == {"s1": "done"} and o.agreed
    with pytest.raises(DomainError, match="agreed already"):
        o.agree(PAIR, "mentor")
    o.edit(PAIR, "mentee", "applications", "Apply to five programs")
    assert not o.agreed  # an edit needs agreeing again
    o.agree(PAIR, "mentor")
    assert _valid(o.pending) == [
        "ObjectiveSet", "ActionStepPlanned", "ActionStepPlanned", "ObjectiveCommented",
        "ObjectiveAgreed", "ObjectiveEdited", "ObjectiveAgreed",
    ]  # fmt: skip


def test_only_the_mentor_agrees_and_only_the_mentee_or_mentor_plans():
    o = _objective()
    with pytest.raises(DomainError, match="mentor or coach"):
        o.agree(PAIR, "mentee")
    with pytest.raises(DomainError, match="mentee or their mentor"):
        o.comment(PAIR, "stranger", "hello")
    grouped = _objective(GROUP, mentee="a", by="a")
    with pytest.raises(DomainError):
        grouped.plan_step(GROUP, "b", "s1", "Read a paper")  # another mentee of the group
    grouped.plan_step(GROUP, "coach", "s1", "Read a paper")
    grouped.comment(GROUP, "coordinator", "On your behalf", staff=True)
    with pytest.raises(DomainError):
        grouped.agree(GROUP, "coordinator")  # agreeing is the coach's
    with pytest.raises(NotFound):
        Objective("none").comment(PAIR, "mentee", "x")


def test_a_coordinator_sets_an_objective_on_the_mentees_behalf():
    o = Objective("o2")
    with pytest.raises(DomainError, match="member"):
        o.set(PAIR, "mentee", "wellbeing", "Sleep 7 hours", by="coordinator")
    o.set(PAIR, "mentee", "wellbeing", "Sleep 7 hours", by="coordinator", staff=True)
    assert o.pending[0].payload["set_by"] == "coordinator"


def test_steps_statements_and_ended_pairs_are_checked():
    o = _objective()
    with pytest.raises(DomainError) as no_text:
        o.plan_step(PAIR, "mentee", "s1", "  ")
    assert no_text.value.field == "text"
    with pytest.raises(DomainError) as bad_status:
        o.plan_step(PAIR, "mentee", "s1", "x", status="finished")
    assert bad_status.value.field == "status"
    with pytest.raises(DomainError) as no_title:
        o.edit(PAIR, "mentee", "resume", " ")
    assert no_title.value.field == "title"
    for n in range(MAX_STEPS):
        o.plan_step(PAIR, "mentee", f"s{n}", "step")
    with pytest.raises(DomainError, match="at most"):
        o.plan_step(PAIR, "mentee", "one-more", "step")
    o.plan_step(PAIR, "mentee", "s0", "step", status="in_progress")  # a change still goes
    with pytest.raises(DomainError, match="ended"):
        o.comment(ENDED, "mentor", "too late")
    o.move(PAIR, "mentee", 3)
    assert o.pending[-1].payload["position"] == 3


def test_a_meeting_links_only_its_pairings_objectives():
    m = Meeting("m1")
    args = dict(date=START, today=START, duration_minutes=30, mode="virtual")
    with pytest.raises(DomainError) as foreign:
        m.log(PAIR, "mentee", **args, objective_ids=["x"], known_objectives={"o1"})
    assert foreign.value.field == "objective_ids"
    m.log(PAIR, "mentee", **args, objective_ids=["o1", "o1"], known_objectives={"o1"})
    assert m.pending[0].payload["objective_ids"] == ["o1"]
    assert _valid(m.pending) == ["MeetingLogged"]


def test_health_counts_objectives_by_area_and_the_share_of_steps_done():
    rels = [
        Relationship(f"p{n}", "c1", "pair", {f"m{n}": "mentor", f"e{n}": "mentee"}, True, START)
        for n in range(5)
    ]
    objectives = [
        {"pair_id": f"p{n}", "mentee_id": f"e{n}", "status": "open", "area": "resume",
         "steps": ["done", "not_started"]}
        for n in range(5)
    ]  # fmt: skip
    objectives[0]["area"] = "wellbeing"
    found = program_health(rels, [], objectives, START, 30)["objectives"]
    assert found["by_area"]["resume"] == 4 and found["by_area"]["wellbeing"] == 1
    assert found["steps"] == 10 and found["steps_done_share"] == 0.5
    few = program_health(rels[:4], [], objectives[:4], START, 30)["objectives"]
    assert few["suppressed"] and "by_area" not in few
