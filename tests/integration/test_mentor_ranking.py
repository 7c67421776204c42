"""Mentors rank mentees: recorded by enrollment, projected into pairing's pool, used by stable
matching before scores, and shown on each proposed pair beside the mentee's own ranking."""

import pytest

from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant
from services.eventkit.migrations import upgrade
from services.pairing.app import create_app as create_pairing_app
from services.pairing.engine import Rules, stable
from services.pairing.readmodels.candidate_pool import load_pool
from services.pairing.service import SERVICE as PAIRING
from support import auth_headers, deliver


@pytest.fixture
def world(client, admin, enrollment_app):
    def post(url, body):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    inst = post("/api/institutions", {"name": "N", "short_code": "N", "time_zone": "UTC"})
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "P", "program_type": "resident_peer_mentoring"},
    )
    cycle = post(f"/api/programs/{program['id']}/cycles", {"name": "2026-27"})
    people, enrolled = {}, {}
    for name, level, role in (("m0", "PGY5", "mentor"), ("m1", "PGY5", "mentor"),
                              ("a", "PGY1", "mentee"), ("b", "PGY1", "mentee"),
                              ("c", "PGY1", "mentee")):  # fmt: skip
        people[name] = post(
            "/api/people",
            {"institution_id": inst["id"], "name": name.upper(), "email": f"{name}@x.org",
             "training_level": level},
        )  # fmt: skip
        body = {"person_id": people[name]["id"], "role": role}
        enrolled[name] = post(
            f"/api/cycles/{cycle['id']}/enrollments", body | ({"capacity": 1} if role == "mentor" else {})
        )  # fmt: skip

    def headers(name: str, role: str) -> dict:
        return auth_headers(Grant(role, inst["id"], program["id"]), user=people[name]["id"])

    return {
        "cycle": cycle, "people": people, "enrolled": enrolled, "headers": headers,
        "coordinator": auth_headers(Grant(COORDINATOR, inst["id"]), user="coord"),
    }  # fmt: skip


def _rank_mentees(client, world, mentor: str, ranked: list[str], refused=()) -> object:
    e = world["enrolled"]
    return client.put(
        f"/api/enrollments/{e[mentor]['id']}/mentee-ranking",
        json={"mentee_enrollment_ids": [e[n]["id"] for n in ranked],
              "not_acceptable_enrollment_ids": [e[n]["id"] for n in refused]},
        headers=world["headers"](mentor, MENTOR),
    )  # fmt: skip


def test_a_mentor_ranks_mentees_of_their_cycle_with_field_errors(client, world, stored_events):
    e = world["enrolled"]
    ranked = _rank_mentees(client, world, "m0", ["c", "b"], refused=["a"])
    assert ranked.status_code == 200, ranked.json
    assert ranked.json["ranking"] == [e["c"]["id"], e["b"]["id"]]
    assert ranked.json["not_acceptable"] == [e["a"]["id"]]
    before = stored_events()
    for bad, field in (
        (["m1"], "mentee_enrollment_ids"),
        (["c", "c"], "mentee_enrollment_ids"),
    ):
        refused = _rank_mentees(client, world, "m0", bad)
        assert refused.status_code == 422 and field in refused.json["errors"]["json"]
    both = _rank_mentees(client, world, "m0", ["a"], refused=["a"])
    assert "not_acceptable_enrollment_ids" in both.json["errors"]["json"]
    as_mentee = client.put(
        f"/api/enrollments/{e['a']['id']}/mentee-ranking",
        json={"mentee_enrollment_ids": [e["b"]["id"]]},
        headers=world["headers"]("a", MENTEE),
    )
    assert as_mentee.status_code == 422 and "Only mentors" in str(as_mentee.json)
    other_mentor = client.put(
        f"/api/enrollments/{e['m0']['id']}/mentee-ranking",
        json={"mentee_enrollment_ids": []},
        headers=world["headers"]("m1", MENTOR),
    )
    assert other_mentor.status_code == 403
    assert stored_events() == before


def test_stable_matching_follows_both_sides_and_the_proposal_shows_ranks(
    client, world, admin, enrollment_app, tmp_path, database_url, request
):
    e, people = world["enrolled"], world["people"]
    for mentee, mentors in (("a", ["m0", "m1"]), ("b", ["m0", "m1"]), ("c", ["m0"])):
        client.put(
            f"/api/enrollments/{e[mentee]['id']}/ranking",
            json={"mentor_enrollment_ids": [e[m]["id"] for m in mentors]},
            headers=admin,
        )
    assert _rank_mentees(client, world, "m0", ["c", "b"], refused=["a"]).status_code == 200
    assert _rank_mentees(client, world, "m1", ["a"]).status_code == 200

    url = (
        f"sqlite:///{tmp_path / 'pairing.db'}"
        if database_url.startswith("sqlite")
        else request.getfixturevalue("pg_database_factory")("pairing")
    )
    upgrade(PAIRING.migrations, url)
    app = create_pairing_app(url)
    rt, source = app.extensions["tandem"], enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        deliver(PAIRING, rt, [ev for _, ev in source.store.read_all(conn)])
    pairing = app.test_client()
    cycle_id = world["cycle"]["id"]

    # The mentor sees every mentee the rules allow, the one they would not accept included.
    eligible = pairing.get(
        f"/api/enrollments/{e['m0']['id']}/eligible-mentees", headers=world["headers"]("m0", MENTOR)
    )
    assert eligible.status_code == 200
    assert [m["name"] for m in eligible.json] == ["A", "B", "C"]
    assert not {"goals", "identity"} & set(eligible.json[0])
    nosy = pairing.get(
        f"/api/enrollments/{e['m0']['id']}/eligible-mentees", headers=world["headers"]("a", MENTEE)
    )
    assert nosy.status_code == 403

    with rt.reading() as conn:
        mentees, mentors = load_pool(conn, cycle_id)
    by_id = {m.id: m for m in mentors}
    assert by_id[people["m0"]["id"]].ranking == (people["c"]["id"], people["b"]["id"])
    assert people["a"]["id"] in by_id[people["m0"]["id"]].conflicts

    run = pairing.post(
        f"/api/cycles/{cycle_id}/runs", json={"algorithm": "stable"}, headers=world["coordinator"]
    )
    assert run.status_code == 201, run.json
    name = {p["id"]: n for n, p in people.items()}
    shown = {
        (name[p["mentee_id"]], name[p["mentor_id"]]): (p["mentee_rank"], p["mentor_rank"])
        for p in run.json["pairs"]
    }
    # A goes to M1 (M0 would not accept A); C, ranked first by M0, displaces B, whom M1 ranks
    # below A: B is left unmatched.
    assert shown == {("a", "m1"): (2, 1), ("c", "m0"): (1, 1)}
    assert run.json["blocking_pairs"] == 0
    expected = stable(mentees, mentors, Rules())
    assert {(p.mentee_id, p.mentor_id) for p in expected.pairs} == {
        (p["mentee_id"], p["mentor_id"]) for p in run.json["pairs"]
    }
    rt.engine.dispose()
