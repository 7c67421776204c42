"""A concern says what it is about: the pair or group and the member it names, read by the
coordinators who handle it and never by the other member; what the handlers do following it (the
pair ended, a rematch, a note to file) is recorded and on its timeline. Through HTTP on SQLite and
PostgreSQL, with the `world` of test_feedback_api (real enrollment and pairing events)."""

from __future__ import annotations

import test_feedback_api

world = test_feedback_api.world  # the fixture


def test_a_concern_names_its_relationship_and_person_for_its_handlers_only(world):
    c, h = world["client"], world["headers"]
    pair = world["pair_of"]("big-mentor1")
    mentee, mentor = world["by_id"][pair["mentee_id"]], world["by_id"][pair["mentor_id"]]
    url = f"/api/pairs/{pair['pair_id']}/concerns"
    stranger = world["people"]["big-mentor2"]["id"]
    body = {"kind": "boundary", "text": "Comments about my rotation choices."}
    refused = c.post(url, json={**body, "about_id": stranger}, headers=h(mentee))
    assert refused.status_code == 422 and "about_id" in refused.json["errors"]["json"]

    made = c.post(url, json={**body, "about_id": pair["mentor_id"]}, headers=h(mentee))
    assert made.status_code == 201, made.json
    one = f"/api/concerns/{made.json['concern_id']}"
    read = c.get(one, headers=world["coordinator"]).json
    assert read["about_id"] == pair["mentor_id"]
    assert {k: v for k, v in read["relationship"].items() if k != "titles"} == {
        "pair_id": pair["pair_id"], "kind": "pair",
        "members": {pair["mentor_id"]: "mentor", pair["mentee_id"]: "mentee"},
    }  # fmt: skip
    assert read["actions"] == []
    # The member it is about never reads it, nor does anything else say it exists.
    assert c.get(one, headers=h(mentor)).status_code == 404
    assert c.get("/api/concerns", headers=h(mentor)).json == []
    # The raiser reads what they said, not the handlers' record.
    own = c.get(one, headers=h(mentee)).json
    assert own["about_id"] == pair["mentor_id"] and "actions" not in own

    # A concern about a coaching group names the group, and the member it is about.
    people = world["people"]
    groups = c.get("/api/me/pairs", headers=h("group-mentee0")).json
    group = next(g for g in groups if g["kind"] == "group")
    about = people["group-mentee1"]["id"]
    grouped = c.post(f"/api/pairs/{group['pair_id']}/concerns", headers=h("group-mentee0"),
                     json={"kind": "other", "text": "Talks over everyone.", "about_id": about})  # fmt: skip
    assert grouped.status_code == 201, grouped.json
    read = c.get(f"/api/concerns/{grouped.json['concern_id']}", headers=world["coordinator"]).json
    assert read["relationship"]["kind"] == "group" and read["about_id"] == about
    assert len(read["relationship"]["members"]) == 4
    for key in ("group-mentee1", "group-mentor0"):
        assert (
            c.get(f"/api/concerns/{grouped.json['concern_id']}", headers=h(key)).status_code == 404
        )


def test_actions_following_a_concern_are_recorded_on_its_timeline(world):
    c, h = world["client"], world["headers"]
    pair = world["pair_of"]("big-mentor1")
    mentee = world["by_id"][pair["mentee_id"]]
    made = c.post(f"/api/pairs/{pair['pair_id']}/concerns", headers=h(mentee),
                  json={"kind": "rematch", "text": "We do not get on."})  # fmt: skip
    one = f"/api/concerns/{made.json['concern_id']}"
    actions = f"{one}/actions"
    empty = c.post(actions, json={"action": "note"}, headers=world["coordinator"])
    assert empty.status_code == 422 and "note" in empty.json["errors"]["json"]
    wrong = c.post(actions, json={"action": "shout"}, headers=world["coordinator"])
    assert wrong.status_code == 422 and "action" in wrong.json["errors"]["json"]
    mentor = world["by_id"][pair["mentor_id"]]
    for who in (h(mentor), h(mentee), world["outsider"]):
        assert c.post(actions, json={"action": "rematch"}, headers=who).status_code == 404

    for action, note in (("note", "Called both; mentee prefers a new match."),
                         ("pair_ended", "Ended in pairing."), ("rematch", "")):  # fmt: skip
        done = c.post(actions, json={"action": action, "note": note}, headers=world["coordinator"])
        assert done.status_code == 201, done.json
        assert done.json["action"] == action and done.json["taken_by"] == "coord-a"
    assert world["count"]("ConcernFollowedUp") == 3
    timeline = c.get(one, headers=world["coordinator"]).json["actions"]
    assert [a["action"] for a in timeline] == ["note", "pair_ended", "rematch"]
    assert timeline[0]["note"] == "Called both; mentee prefers a new match."

    c.post(f"{one}/acknowledge", headers=world["coordinator"])
    c.post(f"{one}/resolve", json={"note": "Rematched."}, headers=world["coordinator"])
    late = c.post(actions, json={"action": "note", "note": "x"}, headers=world["coordinator"])
    assert late.status_code == 422
