"""Objectives with action plans through feedback's HTTP API on a real database: the mentee plans,
the mentor comments and agrees, a coordinator acts on their behalf, a fellow mentee of a coaching
group sees none of it, a meeting links the objectives it discussed, and health counts them."""

from __future__ import annotations

import datetime as dt

from test_feedback_api import _key_of, world  # noqa: F401  (the fixture: a real pairing run)


def _ok(response, status=200):
    assert response.status_code == status, response.json
    return response.json


def test_an_action_plan_is_planned_reviewed_agreed_and_kept_in_its_timeline(world):  # noqa: F811
    c, h = world["client"], world["headers"]
    pair = world["pair_of"]("big-mentor1")
    mentee, mentor = _key_of(world, pair["mentee_id"]), _key_of(world, pair["mentor_id"])
    url = f"/api/pairs/{pair['pair_id']}/objectives"
    first = _ok(c.post(url, json={"area": "interviews", "title": "Two mock interviews"},
                       headers=h(mentee)), 201)  # fmt: skip
    body = {"area": "wellbeing", "title": "Sleep seven hours on five nights a week"}
    second = _ok(c.post(url, json=body, headers=h(mentee)), 201)
    assert (first["position"], second["position"]) == (0, 1)
    oid = second["objective_id"]

    steps = f"/api/objectives/{oid}/steps"
    planned = _ok(c.post(steps, json={"text": "No screens after 22:00", "due_date": "2031-01-01"},
                         headers=h(mentee)))  # fmt: skip
    step_id = planned["step_id"]
    bad = c.post(steps, json={"text": "x", "status": "finished"}, headers=h(mentee))
    assert bad.status_code == 422 and "status" in bad.json["errors"]["json"]
    _ok(c.post(f"/api/objectives/{oid}/comments", json={"text": "Track it in a diary."},
               headers=h(mentor)))  # fmt: skip
    assert c.post(f"/api/objectives/{oid}/agree", headers=h(mentee)).status_code == 422
    agreed = _ok(c.post(f"/api/objectives/{oid}/agree", headers=h(mentor)))
    assert agreed["agreed_by"] == pair["mentor_id"]
    done = _ok(c.post(steps, json={"step_id": step_id, "text": "No screens after 22:00",
                                   "status": "done"}, headers=h(mentee)))  # fmt: skip
    assert done["objective"]["steps"] == [
        {"step_id": step_id, "text": "No screens after 22:00", "due_date": None, "status": "done"}
    ]
    assert done["objective"]["agreed_by"] == pair["mentor_id"]  # a step does not undo agreement
    edited = _ok(c.post(f"/api/objectives/{oid}", json={**body, "title": "Sleep 7h, 6 nights"},
                        headers=h(mentee)))  # fmt: skip
    assert edited["agreed_by"] is None and edited["title"] == "Sleep 7h, 6 nights"
    kinds = [x["kind"] for x in edited["history"]]
    assert kinds == ["set", "step", "comment", "agreed", "step", "edited"]

    moved = _ok(c.post(f"/api/objectives/{oid}/move", json={"offset": -1}, headers=h(mentor)))
    assert [o["objective_id"] for o in moved] == [oid, first["objective_id"]]
    assert c.post(f"/api/objectives/{oid}/move", json={"offset": -1},
                  headers=h(mentee)).status_code == 422  # fmt: skip

    # A coordinator of the program acts on the mentee's behalf; another institution's cannot.
    on_behalf = {"text": "Book the sleep clinic", "status": "in_progress"}
    _ok(c.post(steps, json=on_behalf, headers=world["coordinator"]))
    assert c.post(steps, json=on_behalf, headers=world["outsider"]).status_code == 403
    stranger = _key_of(world, world["pair_of"]("big-mentor2")["mentee_id"])
    assert c.post(steps, json=on_behalf, headers=h(stranger)).status_code == 403
    listed = _ok(c.get(url, headers=world["coordinator"]))
    assert [o["objective_id"] for o in listed] == [oid, first["objective_id"]]


def test_a_coaching_groups_mentees_see_only_their_own_objectives(world):  # noqa: F811
    c, h = world["client"], world["headers"]
    mine = c.get("/api/me/pairs", headers=h("group-mentee0")).json
    group_id = next(p["pair_id"] for p in mine if p["kind"] == "group")
    url = f"/api/pairs/{group_id}/objectives"
    _ok(c.post(url, json={"area": "research", "title": "Submit an abstract"},
               headers=h("group-mentee0")), 201)  # fmt: skip
    assert _ok(c.get(url, headers=h("group-mentee1"))) == []
    assert len(_ok(c.get(url, headers=h("group-mentor0")))) == 1
    [own] = _ok(c.get(url, headers=h("group-mentee0")))
    steps = f"/api/objectives/{own['objective_id']}/steps"
    assert c.post(steps, json={"text": "x"}, headers=h("group-mentee1")).status_code == 403


def test_a_meeting_links_objectives_and_health_counts_plans(world):  # noqa: F811
    c, h = world["client"], world["headers"]
    linked = None
    for n in range(3):
        for pair in [p for p in world["pairs"]["big"] if p["mentor_id"] ==
                     world["people"][f"big-mentor{n}"]["id"]]:  # fmt: skip
            mentee = _key_of(world, pair["mentee_id"])
            made = _ok(c.post(f"/api/pairs/{pair['pair_id']}/objectives",
                              json={"area": "resume", "title": "CV"}, headers=h(mentee)), 201)  # fmt: skip
            steps = f"/api/objectives/{made['objective_id']}/steps"
            _ok(c.post(steps, json={"text": "Draft", "status": "done"}, headers=h(mentee)))
            _ok(c.post(steps, json={"text": "Send"}, headers=h(mentee)))
            linked = linked or (pair, mentee, made["objective_id"])
    pair, mentee, objective_id = linked
    meeting = {"date": dt.date.today().isoformat(), "duration_minutes": 30, "mode": "virtual"}
    url = f"/api/pairs/{pair['pair_id']}/meetings"
    foreign = c.post(url, json={**meeting, "objective_ids": ["elsewhere"]}, headers=h(mentee))
    assert foreign.status_code == 422
    logged = _ok(c.post(url, json={**meeting, "objective_ids": [objective_id]},
                        headers=h(mentee)), 201)  # fmt: skip
    assert logged["objective_ids"] == [objective_id]

    health = _ok(c.get(f"/api/cycles/{world['cycles']['big']}/health",
                       headers=world["coordinator"]))["objectives"]  # fmt: skip
    assert health["suppressed"] is False and health["people"] == 6
    assert health["by_area"]["resume"] == 6 and health["steps_done_share"] == 0.5
