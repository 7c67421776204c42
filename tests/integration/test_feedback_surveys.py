"""Surveys through HTTP on SQLite and PostgreSQL: templates (with the ready-made set), scheduling
for a cycle, issuing each instance exactly once (twice over, across a restart, with two workers at
once, and from the worker loop), answering (only the issued person, checked per item, a second
submit edits with history) and the survey health with suppression under 5 people.

The people, cycles and pairs come from the `world` of test_feedback_api (real enrollment and
pairing events).
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import test_feedback_api

from services.eventkit import ConcurrencyError, Metadata
from services.eventkit.envelope import utcnow
from services.feedback import readmodels as rm
from services.feedback.app import create_app as create_feedback_app
from services.feedback.app.survey_issuing import issue_due
from services.feedback.domain.surveys import SurveyInstance, add_months
from services.feedback.service import SERVICE as FEEDBACK
from services.feedback.worker import survey_issuer
from support import wait_until

world = test_feedback_api.world  # the fixture

SUPPRESSED = {"suppressed": True, "reason": "describes fewer than 5 people"}


def _inst(world) -> str:
    with world["rt"].reading() as conn:
        cycle = rm.cycles.select().where(rm.cycles.c.id == world["cycles"]["big"])
        return conn.execute(cycle).mappings().one()["institution_id"]


def _seed(world) -> dict[str, dict]:
    c, inst = world["client"], _inst(world)
    seeded = c.post(f"/api/institutions/{inst}/survey-templates/builtins", json={},
                    headers=world["coordinator"])  # fmt: skip
    assert seeded.status_code == 200, seeded.json
    return {t["builtin"]: t for t in seeded.json}


def _schedule(world, template_id, tag="big", **body):
    made = world["client"].post(
        f"/api/cycles/{world['cycles'][tag]}/survey-schedules",
        json={"template_id": template_id, **body},
        headers=world["coordinator"],
    )
    assert made.status_code == 201, made.json
    return made.json


def _move_to(world, when: dt.datetime) -> None:
    world["clock"].move_to(when)


def _six_months_on() -> dt.datetime:
    now = utcnow()
    return dt.datetime.combine(add_months(now.date(), 6), now.time(), now.tzinfo)


def _issue(world) -> list[dict]:
    issued = world["client"].post("/api/surveys/issue-due", headers=world["admin"])
    assert issued.status_code == 200, issued.json
    return issued.json


def test_templates_validation_builtins_and_permissions(world):
    c, h, inst = world["client"], world["headers"], _inst(world)
    url = f"/api/institutions/{inst}/survey-templates"
    good = {
        "name": "Check-in",
        "items": [
            {"item_id": "ok", "kind": "likert", "prompt": "Things are going well."},
            {"kind": "choice", "prompt": "Meet how?", "options": ["In person", "Video"]},
            {"kind": "text", "prompt": "Anything else?", "required": False, "max_length": 300},
        ],
    }
    for item, field in (
        ({"kind": "likert", "prompt": "x", "labels": ["a", "b"]}, "labels"),
        ({"kind": "choice", "prompt": "x", "options": ["only"]}, "options"),
        ({"kind": "choice", "prompt": "x", "options": ["a", "a"]}, "options"),
        ({"kind": "slider", "prompt": "x"}, "kind"),
        ({"kind": "text", "prompt": ""}, "prompt"),
        ({"kind": "text", "prompt": "x", "max_length": 5000}, "max_length"),
    ):
        bad = c.post(url, json={**good, "items": [good["items"][0], item]},
                     headers=world["coordinator"])  # fmt: skip
        assert bad.status_code == 422, (item, bad.json)
        assert field in bad.json["errors"]["json"]["items"]["1"], bad.json
    assert c.post(url, json={**good, "items": []}, headers=world["coordinator"]).status_code == 422
    dup = c.post(url, json={**good, "items": [good["items"][0]] * 2}, headers=world["coordinator"])
    assert dup.status_code == 422 and "items.1.item_id" in dup.json["errors"]["json"]
    assert c.post(url, json=good, headers=world["outsider"]).status_code == 403
    assert c.post(url, json=good, headers=h("big-mentee0")).status_code == 403
    assert world["count"]() == 0

    made = c.post(url, json=good, headers=world["coordinator"])
    assert made.status_code == 201, made.json
    items = made.json["items"]
    assert [i["item_id"] for i in items] == ["ok", "q2", "q3"]
    assert items[0]["labels"][0] == "Strongly disagree" and len(items[0]["labels"]) == 5

    builtins = c.get("/api/survey-templates/builtins", headers=world["coordinator"]).json
    assert {b["name"] for b in builtins} == {
        "Semiannual review", "End-of-cycle evaluation", "Group coaching session feedback"
    }  # fmt: skip
    seeded = _seed(world)
    again = _seed(world)  # seeding twice defines nothing new
    assert {k: v["template_id"] for k, v in seeded.items()} == {
        k: v["template_id"] for k, v in again.items()
    }
    assert world["count"]("SurveyTemplateDefined") == 4
    semi = seeded["semiannual_review"]
    assert [i["prompt"] for i in semi["items"]] == [
        "Are you meeting?", "How often do you meet?", "The mentoring is helpful to me.",
        "What would make it better?",
    ]  # fmt: skip
    listed = c.get(url, headers=world["coordinator"])
    assert listed.status_code == 200 and len(listed.json) == 4
    assert c.get(url, headers=world["outsider"]).status_code == 403
    assert c.get(f"/api/survey-templates/{semi['template_id']}",
                 headers=world["coordinator"]).status_code == 200  # fmt: skip
    assert c.get(f"/api/survey-templates/{semi['template_id']}",
                 headers=world["outsider"]).status_code == 403  # fmt: skip
    assert c.get("/api/survey-templates/nope", headers=world["coordinator"]).status_code == 404


def test_scheduling_defaults_to_review_months_and_is_once_per_cycle(world):
    c, h = world["client"], world["headers"]
    seeded = _seed(world)
    semi = seeded["semiannual_review"]["template_id"]
    big = world["cycles"]["big"]
    url = f"/api/cycles/{big}/survey-schedules"
    assert c.post(url, json={"template_id": semi}, headers=world["outsider"]).status_code == 403
    assert c.post(url, json={"template_id": semi}, headers=h("big-mentee0")).status_code == 403
    unknown = c.post(url, json={"template_id": "nope"}, headers=world["coordinator"])
    assert unknown.status_code == 422 and "template_id" in unknown.json["errors"]["json"]
    bad = c.post(url, json={"template_id": semi, "months": [-1]}, headers=world["coordinator"])
    assert bad.status_code == 422 and "months" in bad.json["errors"]["json"]

    schedule = _schedule(world, semi)
    assert schedule["months"] == [6, 12] and schedule["instances"] == []
    again = c.post(url, json={"template_id": semi}, headers=world["coordinator"])
    assert again.status_code == 422
    end = _schedule(world, seeded["end_of_cycle"]["template_id"], months=[12])
    assert end["months"] == [12]
    assert world["count"]("SurveyScheduled") == 2
    assert len(c.get(url, headers=world["coordinator"]).json) == 2
    assert c.get(url, headers=world["outsider"]).status_code == 403


def test_a_due_survey_is_issued_exactly_once_even_across_a_restart(world):
    c, h = world["client"], world["headers"]
    seeded = _seed(world)
    _schedule(world, seeded["semiannual_review"]["template_id"])
    assert c.post("/api/surveys/issue-due", headers=world["coordinator"]).status_code == 403
    assert _issue(world) == []  # month 6 has not come yet
    assert c.get("/api/me/surveys", headers=h("big-mentee0")).json == []

    _move_to(world, _six_months_on() + dt.timedelta(hours=1))
    [issued] = _issue(world)
    assert issued["month"] == 6 and issued["recipients"] == 9  # 6 pairs: 3 mentors, 6 mentees
    answer_by = add_months(dt.date.today(), 6) + dt.timedelta(days=14)  # the default 14 days
    assert issued["due_on"] == answer_by.isoformat()
    assert _issue(world) == []
    assert world["count"]("SurveyIssued") == 1

    # A restart: a new app on the same database issues nothing more.
    rt = world["rt"]
    restarted = create_feedback_app(
        rt.engine.url.render_as_string(hide_password=False), clock=world["clock"]
    )
    try:
        again = restarted.test_client().post("/api/surveys/issue-due", headers=world["admin"])
        assert again.status_code == 200 and again.json == []
        # A worker that saw it as due before the other's write: the store refuses its SurveyIssued.
        for worker in (rt, restarted.extensions["tandem"]):
            with worker.engine.begin() as conn:
                stale = SurveyInstance(issued["instance_id"])  # as if loaded before the write
                schedule = conn.execute(rm.survey_schedules.select()).mappings().one()
                stale.issue(schedule["schedule_id"], schedule["template_id"],
                            schedule["cycle_id"], 6, dt.date.today(), [])  # fmt: skip
                with pytest.raises(ConcurrencyError):
                    worker.save(conn, stale, Metadata(None))
    finally:
        restarted.extensions["tandem"].engine.dispose()
    assert world["count"]("SurveyIssued") == 1

    mine = c.get("/api/me/surveys", headers=h("big-mentee0"))
    assert mine.status_code == 200
    [survey] = mine.json
    assert survey["template"] == "Semiannual review" and survey["status"] == "open"
    assert survey["response"] is None and len(survey["items"]) == 4
    assert c.get("/api/me/surveys", headers=h("small-mentee0")).json == []  # not scheduled there

    # A year on: month 12 is issued, month 6 is not issued again.
    _move_to(world, utcnow() + dt.timedelta(days=370))
    [twelve] = _issue(world)
    assert twelve["month"] == 12 and world["count"]("SurveyIssued") == 2


def test_concurrent_issuers_issue_once(world):
    _schedule(world, _seed(world)["semiannual_review"]["template_id"])
    _move_to(world, _six_months_on() + dt.timedelta(hours=1))
    rt = world["rt"]
    other = create_feedback_app(
        rt.engine.url.render_as_string(hide_password=False), clock=world["clock"]
    )
    results: list[list[str]] = []
    barrier = threading.Barrier(2)

    def run(runtime):
        barrier.wait()
        results.append(issue_due(runtime, world["clock"]))

    threads = [threading.Thread(target=run, args=(r,)) for r in (rt, other.extensions["tandem"])]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other.extensions["tandem"].engine.dispose()
    assert sorted(len(r) for r in results) == [0, 1]
    assert world["count"]("SurveyIssued") == 1


def test_the_worker_loop_issues_due_surveys(world):
    assert survey_issuer in FEEDBACK.background
    _schedule(world, _seed(world)["semiannual_review"]["template_id"])
    _move_to(world, _six_months_on() + dt.timedelta(hours=1))
    stop = threading.Event()
    loop = threading.Thread(target=survey_issuer, args=(world["rt"], stop, 0.05, world["clock"]))
    loop.start()
    try:
        wait_until(lambda: world["count"]("SurveyIssued") == 1, timeout_s=10)
    finally:
        stop.set()
        loop.join(5)
    assert world["count"]("SurveyIssued") == 1


def _issued(world, tag="big", builtin="semiannual_review"):
    seeded = _seed(world)
    _schedule(world, seeded[builtin]["template_id"], tag=tag)
    _move_to(world, _six_months_on() + dt.timedelta(hours=1))
    [instance] = [i for i in _issue(world) if i["month"] == 6]
    return instance


GOOD = {"meeting": "Yes, regularly", "frequency": "Monthly", "helpful": 4, "better": "More time"}


def test_answers_are_checked_and_only_the_issued_person_answers(world):
    c, h = world["client"], world["headers"]
    instance = _issued(world)
    url = f"/api/survey-instances/{instance['instance_id']}/responses"
    before = world["count"]()
    for change, item in (
        ({"helpful": 6}, "helpful"),
        ({"helpful": 0}, "helpful"),
        ({"helpful": "4"}, "helpful"),
        ({"helpful": True}, "helpful"),
        ({"helpful": None}, "helpful"),  # required
        ({"meeting": "Maybe"}, "meeting"),
        ({"better": 12}, "better"),
        ({"extra": "x"}, "extra"),
    ):
        refused = c.post(url, json={"answers": {**GOOD, **change}}, headers=h("big-mentee0"))
        assert refused.status_code == 422, (change, refused.json)
        assert list(refused.json["errors"]["json"]["answers"]) == [item], refused.json
    two = c.post(url, json={"answers": {**GOOD, "helpful": 9, "meeting": "x"}},
                 headers=h("big-mentee0"))  # fmt: skip
    assert set(two.json["errors"]["json"]["answers"]) == {"helpful", "meeting"}
    assert c.post(url, json={}, headers=h("big-mentee0")).status_code == 422
    # Not issued to them: a mentee of another cycle, a coordinator, another institution.
    for who in (h("small-mentee0"), world["coordinator"], world["outsider"], world["admin"]):
        assert c.post(url, json={"answers": GOOD}, headers=who).status_code == 403
    assert c.post("/api/survey-instances/nope/responses", json={"answers": GOOD},
                  headers=h("big-mentee0")).status_code == 404  # fmt: skip
    assert world["count"]() == before

    optional = {k: v for k, v in GOOD.items() if k != "better"}
    done = c.post(url, json={"answers": optional}, headers=h("big-mentee0"))
    assert done.status_code == 201, done.json
    assert done.json["revision"] == 1 and done.json["answers"]["better"] is None


def test_a_second_submit_edits_with_history(world):
    c, h = world["client"], world["headers"]
    instance = _issued(world)
    url = f"/api/survey-instances/{instance['instance_id']}/responses"
    first = c.post(url, json={"answers": GOOD}, headers=h("big-mentor1"))
    assert first.status_code == 201 and first.json["revision"] == 1
    edited = c.post(url, json={"answers": {**GOOD, "helpful": 2}}, headers=h("big-mentor1"))
    assert edited.status_code == 200, edited.json
    assert edited.json["revision"] == 2 and edited.json["answers"]["helpful"] == 2
    assert [x["answers"]["helpful"] for x in edited.json["history"]] == [4, 2]
    assert [x["revision"] for x in edited.json["history"]] == [1, 2]
    assert world["count"]("SurveyAnswered") == 2

    mine = c.get("/api/me/surveys", headers=h("big-mentor1")).json
    assert mine[0]["status"] == "answered" and mine[0]["response"]["revision"] == 2
    own = c.get(f"{url}/me", headers=h("big-mentor1"))
    assert own.status_code == 200 and len(own.json["history"]) == 2
    assert c.get(f"{url}/me", headers=h("big-mentor2")).status_code == 404
    # Still one response per person: the health counts one responder.
    health = c.get(f"/api/cycles/{world['cycles']['big']}/health",
                   headers=world["coordinator"]).json  # fmt: skip
    [survey] = health["surveys"]
    assert survey["response_rate"]["suppressed"] is False
    assert survey["response_rate"]["responded"] == 1 and survey["response_rate"]["issued"] == 9


def test_survey_health_suppresses_below_five_people(world):
    c, h = world["client"], world["headers"]
    instance = _issued(world)
    url = f"/api/survey-instances/{instance['instance_id']}/responses"
    health_url = f"/api/cycles/{world['cycles']['big']}/health"
    responders = ["big-mentee0", "big-mentee1", "big-mentee2", "big-mentee3"]
    for n, key in enumerate(responders):
        ok = c.post(url, json={"answers": {**GOOD, "helpful": 1 + n}}, headers=h(key))
        assert ok.status_code == 201, ok.json

    [survey] = c.get(health_url, headers=world["coordinator"]).json["surveys"]
    assert survey["template"] == "Semiannual review" and survey["month"] == 6
    assert survey["response_rate"]["rate"] == round(4 / 9, 3)  # 9 people were issued it
    [helpful] = survey["likert"]
    assert helpful["item_id"] == "helpful" and helpful["mean"] == SUPPRESSED  # 4 answered

    c.post(url, json={"answers": {**GOOD, "helpful": 5}}, headers=h("big-mentee4"))
    [survey] = c.get(health_url, headers=world["coordinator"]).json["surveys"]
    assert survey["likert"][0]["mean"] == {
        "suppressed": False, "people": 5, "responses": 5, "mean": 3.0
    }  # fmt: skip
    admin = c.get(health_url, headers=world["admin"]).json["surveys"]
    assert admin == [survey]
    shown = repr(admin)
    assert not any(p["id"] in shown for p in world["people"].values())

    # A cycle of 3 people: even its response rate is suppressed.
    _schedule(world, _seed(world)["semiannual_review"]["template_id"], tag="small")
    [small] = _issue(world)
    assert small["recipients"] == 3
    for key in ("small-mentee0", "small-mentee1", "small-mentor0"):
        c.post(f"/api/survey-instances/{small['instance_id']}/responses",
               json={"answers": GOOD}, headers=h(key))  # fmt: skip
    [survey] = c.get(f"/api/cycles/{world['cycles']['small']}/health",
                     headers=world["coordinator"]).json["surveys"]  # fmt: skip
    assert survey["response_rate"] == SUPPRESSED and survey["likert"][0]["mean"] == SUPPRESSED
