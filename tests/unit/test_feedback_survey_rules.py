"""The survey rules: templates, answers checked per item, issuing once, revisions, suppression."""

import datetime as dt

import pytest

from services.eventkit.aggregate import DomainError
from services.eventkit.contracts.feedback import registry
from services.feedback.domain.builtin_surveys import BUILTIN_TEMPLATES
from services.feedback.domain.health import survey_health
from services.feedback.domain.relationships import Relationship
from services.feedback.domain.surveys import (
    SurveyInstance,
    SurveyResponse,
    SurveySchedule,
    SurveyTemplate,
    add_months,
    answer_errors,
    normalize_items,
    stable_id,
)

PAIR = Relationship(
    id="p1", cycle_id="c1", kind="pair", members={"mentor": "mentor", "mentee": "mentee"},
    active=True, started_on=dt.date(2026, 1, 1),
)  # fmt: skip
ENDED = Relationship(**{**PAIR.__dict__, "id": "p2", "members": {"x": "mentor", "y": "mentee"},
                        "active": False})  # fmt: skip
ITEMS = normalize_items(BUILTIN_TEMPLATES["semiannual_review"]["items"])
GOOD = {"meeting": "Sometimes", "frequency": "Monthly", "helpful": 3}


def _valid(events):
    for e in events:
        registry.get(e.event_type).validate(e.payload)
    return [e.event_type for e in events]


@pytest.mark.parametrize("key", sorted(BUILTIN_TEMPLATES))
def test_builtin_templates_are_valid(key):
    spec = BUILTIN_TEMPLATES[key]
    t = SurveyTemplate("t1")
    t.define("inst", spec["name"], spec["items"], "coord", spec["description"], builtin=key)
    assert _valid(t.pending) == ["SurveyTemplateDefined"]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"kind": "scale", "prompt": "x"}, "items.0.kind"),
        ({"kind": "text", "prompt": " "}, "items.0.prompt"),
        ({"kind": "likert", "prompt": "x", "labels": ["a", "b", "c"]}, "items.0.labels"),
        ({"kind": "choice", "prompt": "x", "options": ["a"]}, "items.0.options"),
        ({"kind": "choice", "prompt": "x", "options": ["a", "a"]}, "items.0.options"),
        ({"kind": "text", "prompt": "x", "max_length": 9999}, "items.0.max_length"),
    ],
)
def test_template_items_are_checked(item, field):
    with pytest.raises(DomainError) as refused:
        normalize_items([item])
    assert refused.value.field == field


def test_answers_are_checked_per_item():
    assert answer_errors(ITEMS, GOOD) == {}  # "better" is optional
    assert set(answer_errors(ITEMS, {**GOOD, "helpful": 6, "meeting": "?"})) == {
        "helpful", "meeting"
    }  # fmt: skip
    for bad in (0, 6, "3", True, 2.5):
        assert "helpful" in answer_errors(ITEMS, {**GOOD, "helpful": bad})
    assert "helpful" in answer_errors(ITEMS, {k: v for k, v in GOOD.items() if k != "helpful"})
    assert "nope" in answer_errors(ITEMS, {**GOOD, "nope": 1})
    assert "better" in answer_errors(ITEMS, {**GOOD, "better": "x" * 2001})


def test_months_from_the_cycle_start():
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 8, 15), 6) == dt.date(2027, 2, 15)
    assert add_months(dt.date(2026, 1, 1), 0) == dt.date(2026, 1, 1)
    assert stable_id("a", "b") == stable_id("a", "b") != stable_id("a", "c")


def test_schedule_needs_months():
    s = SurveySchedule("s1")
    with pytest.raises(DomainError, match="months"):
        s.schedule("t1", "c1", [], "coord")
    s.schedule("t1", "c1", [12, 6, 6], "coord")
    assert s.pending[0].payload["months"] == [6, 12] and _valid(s.pending)
    with pytest.raises(DomainError, match="already"):
        s.schedule("t1", "c1", [6], "coord")


def test_an_instance_is_issued_once_to_active_members():
    i = SurveyInstance("i1")
    assert i.issue("s1", "t1", "c1", 6, dt.date(2026, 7, 1), [PAIR, ENDED]) is True
    assert i.issue("s1", "t1", "c1", 6, dt.date(2026, 7, 1), [PAIR]) is False
    assert _valid(i.pending) == ["SurveyIssued"]
    assert [r["person_id"] for r in i.pending[0].payload["recipients"]] == ["mentee", "mentor"]


def test_only_recipients_answer_and_a_second_answer_is_a_revision():
    r = SurveyResponse("r1")
    with pytest.raises(DomainError, match="not issued"):
        r.answer("i1", "stranger", ["mentee"], ITEMS, GOOD)
    with pytest.raises(DomainError) as refused:
        r.answer("i1", "mentee", ["mentee"], ITEMS, {**GOOD, "helpful": 9})
    assert refused.value.field == "answers.helpful" and not r.pending
    r.answer("i1", "mentee", ["mentee"], ITEMS, {**GOOD, "better": "  more  "})
    r.answer("i1", "mentee", ["mentee"], ITEMS, {**GOOD, "helpful": 5})
    assert _valid(r.pending) == ["SurveyAnswered", "SurveyAnswered"]
    assert [e.payload["revision"] for e in r.pending] == [1, 2]
    assert r.pending[0].payload["answers"]["better"] == "more"


def test_survey_health_suppresses_below_five_people():
    people = [f"p{n}" for n in range(6)]
    instance = {"instance_id": "i1", "template_id": "t1", "month": 6, "due_on": "2026-07-01",
                "recipients": people}  # fmt: skip
    templates = {"t1": {"name": "Semiannual review", "items": ITEMS}}

    def answers(n):
        return [{"instance_id": "i1", "person_id": p, "answers": {**GOOD, "helpful": 4}}
                for p in people[:n]]  # fmt: skip

    [few] = survey_health([instance], templates, answers(4))
    assert few["response_rate"]["rate"] == round(4 / 6, 3)
    assert few["likert"][0]["mean"]["suppressed"] is True and "mean" not in few["likert"][0]["mean"]
    [enough] = survey_health([instance], templates, answers(5))
    assert enough["likert"][0]["mean"] == {
        "suppressed": False, "people": 5, "responses": 5, "mean": 4.0
    }  # fmt: skip
    [small] = survey_health([{**instance, "recipients": people[:3]}], templates, answers(3))
    assert small["response_rate"]["suppressed"] is True and "rate" not in small["response_rate"]
    stranger = [{"instance_id": "i1", "person_id": "zz", "answers": GOOD}]
    [none] = survey_health([instance], templates, stranger)
    assert none["response_rate"]["responded"] == 0
