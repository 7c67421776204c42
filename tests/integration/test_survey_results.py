"""Surveys issued now and their results through HTTP on SQLite and PostgreSQL: a coordinator
issues a template now to a whole cycle, to chosen pairs or to the pairs at risk; the results per
item (Likert distributions, choice counts, shared free text only) are suppressed under 5 people;
the de-identified CSV names nobody and its export is recorded.

The people, cycles and pairs come from the `world` of test_feedback_api (real enrollment and
pairing events).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import test_feedback_api
import test_feedback_surveys

from services.eventkit.envelope import utcnow

world = test_feedback_api.world  # the fixture

END = {"overall": 4, "objectives": 3, "match": 5, "continue": "Yes",
       "highlight": "The mock interviews", "change": "Longer sessions"}  # fmt: skip


def _templates(world) -> dict[str, dict]:
    return test_feedback_surveys._seed(world)


def _issue_now(world, status=201, tag="big", **body):
    made = world["client"].post(
        f"/api/cycles/{world['cycles'][tag]}/surveys/issue-now", json=body,
        headers=world["coordinator"],
    )  # fmt: skip
    assert made.status_code == status, made.json
    return made.json


def test_a_survey_issued_now_reaches_the_whole_cycle_and_its_results_are_suppressed_under_five(
    world,
):
    c, h = world["client"], world["headers"]
    end = _templates(world)["end_of_cycle"]
    assert [i["shared"] for i in end["items"] if i["kind"] == "text"] == [True, True]
    # Field errors, and nobody but the cycle's coordinators issues one.
    refused = _issue_now(world, 422, template_id="nope")
    assert "template_id" in refused["errors"]["json"], refused
    refused = _issue_now(world, 422, template_id=end["template_id"], audience="everyone")
    assert "audience" in refused["errors"]["json"]
    url = f"/api/cycles/{world['cycles']['big']}/surveys/issue-now"
    for who in (h("big-mentee0"), world["outsider"]):
        assert c.post(url, json={"template_id": end["template_id"]}, headers=who).status_code == 403
    before = world["count"]("SurveyIssued")

    issued = _issue_now(world, template_id=end["template_id"], days_to_answer=7)
    assert world["count"]("SurveyIssued") == before + 1
    assert issued["recipients"] == 9 and issued["responded"] == 0
    assert issued["audience"] == "cycle" and issued["issued_by"] == "coord-a"
    assert issued["due_on"] == (utcnow().date() + dt.timedelta(days=7)).isoformat()
    mine = c.get("/api/me/surveys", headers=h("big-mentee0")).json
    assert [s["instance_id"] for s in mine] == [issued["instance_id"]]

    results_url = f"/api/survey-instances/{issued['instance_id']}/results"
    answer_url = f"/api/survey-instances/{issued['instance_id']}/responses"
    people = ["big-mentee0", "big-mentee1", "big-mentee2", "big-mentee3", "big-mentor1"]
    for n, key in enumerate(people[:4]):
        answers = {**END, "overall": 1 + n, "continue": "Yes" if n % 2 else "Maybe"}
        assert c.post(answer_url, json={"answers": answers}, headers=h(key)).status_code == 201
    four = c.get(results_url, headers=world["coordinator"]).json
    assert four["response_rate"]["responded"] == 4 and four["response_rate"]["issued"] == 9
    assert all(i["result"]["suppressed"] for i in four["items"]), four["items"]
    assert "responses" not in repr(four["items"])

    c.post(answer_url, json={"answers": {**END, "overall": 5}}, headers=h(people[4]))
    five = c.get(results_url, headers=world["coordinator"]).json
    items = {i["item_id"]: i for i in five["items"]}
    overall = items["overall"]["result"]
    assert overall["suppressed"] is False and overall["responses"] == 5
    assert [p["count"] for p in overall["distribution"]] == [1, 1, 1, 1, 1]
    assert overall["distribution"][0]["label"] == "Strongly disagree"
    counts = {x["option"]: x["count"] for x in items["continue"]["result"]["counts"]}
    assert counts == {"Yes": 3, "Maybe": 2, "No": 0}
    assert items["change"]["result"]["texts"] == ["Longer sessions"] * 5
    # Nobody's id or name is in the results, the consortium admin's copy alike.
    assert c.get(results_url, headers=world["admin"]).json == five
    shown = repr(five)
    assert not any(p["id"] in shown or p["name"] in shown for p in world["people"].values())
    for who in (h("big-mentee0"), world["outsider"]):
        assert c.get(results_url, headers=who).status_code == 403

    exported = c.get(f"{results_url}.csv", headers=world["coordinator"])
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert list(rows[0]) == ["item_id", "kind", "prompt", "answer", "count"]
    assert {"item_id": "continue", "kind": "choice", "answer": "Yes", "count": "3"}.items() <= (
        next(r for r in rows if r["item_id"] == "continue" and r["answer"] == "Yes").items()
    )
    text = exported.get_data(as_text=True)
    assert not any(p["id"] in text or p["name"] in text for p in world["people"].values())
    assert world["count"]("RecordsExported") == 1

    listed = c.get(f"/api/cycles/{world['cycles']['big']}/survey-instances",
                   headers=world["coordinator"]).json  # fmt: skip
    assert [(x["instance_id"], x["responded"]) for x in listed] == [(issued["instance_id"], 5)]


def test_free_text_is_never_shown_unless_the_template_shares_it(world):
    c, h = world["client"], world["headers"]
    semi = _templates(world)["semiannual_review"]
    issued = _issue_now(world, template_id=semi["template_id"])
    answers = {"meeting": "Sometimes", "frequency": "Monthly", "helpful": 3,
               "better": "Private words"}  # fmt: skip
    for key in ("big-mentee0", "big-mentee1", "big-mentee2", "big-mentee3", "big-mentee4"):
        url = f"/api/survey-instances/{issued['instance_id']}/responses"
        assert c.post(url, json={"answers": answers}, headers=h(key)).status_code == 201
    results = c.get(f"/api/survey-instances/{issued['instance_id']}/results",
                    headers=world["coordinator"]).json  # fmt: skip
    better = next(i for i in results["items"] if i["item_id"] == "better")
    assert better["shared"] is False and better["result"]["responses"] == 5
    assert "Private words" not in repr(results)
    csv_text = c.get(f"/api/survey-instances/{issued['instance_id']}/results.csv",
                     headers=world["coordinator"]).get_data(as_text=True)  # fmt: skip
    assert "Private words" not in csv_text


def test_a_survey_issued_now_to_chosen_pairs_or_to_the_pairs_at_risk(world):
    c, h = world["client"], world["headers"]
    template_id = _templates(world)["semiannual_review"]["template_id"]
    pair = world["pair_of"]("big-mentor1")
    refused = _issue_now(world, 422, template_id=template_id, audience="chosen")
    assert "relationship_ids" in refused["errors"]["json"]
    other_cycle = world["pairs"]["small"][0]["pair_id"]
    refused = _issue_now(world, 422, template_id=template_id, audience="chosen",
                         relationship_ids=[other_cycle])  # fmt: skip
    assert "relationship_ids" in refused["errors"]["json"]

    chosen = _issue_now(world, template_id=template_id, audience="chosen",
                        relationship_ids=[pair["pair_id"]])  # fmt: skip
    assert chosen["recipients"] == 2 and chosen["audience"] == "chosen"
    # No pair has met, but all were paired today: none is at risk within 30 days.
    refused = _issue_now(world, 422, template_id=template_id, audience="at_risk")
    assert "audience" in refused["errors"]["json"]
    # Every pair but one met in the last week; the one that did not is at risk after 45 days.
    world["clock"].move_to(utcnow() + dt.timedelta(days=45))
    met_on = (utcnow() + dt.timedelta(days=40)).date().isoformat()
    for p in world["pairs"]["big"]:
        if p["pair_id"] != pair["pair_id"]:
            mentee = world["by_id"][p["mentee_id"]]
            logged = c.post(f"/api/pairs/{p['pair_id']}/meetings", headers=h(mentee), json={
                "date": met_on, "duration_minutes": 30, "mode": "virtual"})  # fmt: skip
            assert logged.status_code == 201, logged.json
    at_risk = _issue_now(world, template_id=template_id, audience="at_risk")
    assert at_risk["recipients"] == 2
    mentee = world["by_id"][pair["mentee_id"]]
    assert len(c.get("/api/me/surveys", headers=h(mentee)).json) == 2
