"""What the consortium admin's pages read: who holds staff roles (enrollment GET /api/staff) and
the consortium-wide de-identified outcomes (feedback GET /api/outcomes), on SQLite and
PostgreSQL, fed by real enrollment and pairing events (the `world` of test_feedback_api)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import test_feedback_api
from test_feedback_surveys import GOOD, _issued

from services.eventkit.auth import COORDINATOR, MENTEE, Grant
from services.eventkit.migrations import upgrade
from services.feedback.service import SERVICE as FEEDBACK
from services.pairing.app import create_app as create_pairing_app
from services.pairing.service import SERVICE as PAIRING
from support import auth_headers, deliver

world = test_feedback_api.world  # the fixture

SUPPRESSED = {"suppressed": True, "reason": "describes fewer than 5 people"}


def _institutions(client, admin) -> dict[str, str]:
    return {i["name"]: i["id"] for i in client.get("/api/institutions", headers=admin).json}


def test_staff_lists_who_holds_staff_roles(world, client, admin):
    ids = _institutions(client, admin)
    a, b = ids["A"], ids["B"]
    coordinator = world["people"]["big-mentor0"]
    expected = {
        "person_id": coordinator["id"],
        "name": coordinator["name"],
        "email": coordinator["email"],
        "role": COORDINATOR,
        "institution_id": a,
        "program_id": None,
    }
    assert client.get("/api/staff", headers=admin).json == [expected]
    assert client.get(f"/api/staff?institution_id={b}", headers=admin).json == []
    assert client.get("/api/staff?role=consortium_admin", headers=admin).json == []
    assert client.get("/api/staff?role=mentor", headers=admin).status_code == 422

    # A coordinator lists their own institution's staff, nobody else's.
    own = client.get(f"/api/staff?institution_id={a}", headers=world["coordinator"])
    assert own.status_code == 200 and own.json == [expected]
    assert (
        client.get(f"/api/staff?institution_id={b}", headers=world["coordinator"]).status_code
        == 403
    )
    assert client.get("/api/staff", headers=world["coordinator"]).status_code == 403
    mentee = auth_headers(Grant(MENTEE, a), user="m")
    assert client.get(f"/api/staff?institution_id={a}", headers=mentee).status_code == 403

    revoked = client.post(
        f"/api/people/{coordinator['id']}/roles/revoke",
        json={"role": COORDINATOR, "institution_id": a},
        headers=admin,
    )
    assert revoked.status_code == 200
    assert client.get("/api/staff", headers=admin).json == []


@pytest.fixture
def small_program_in_b(world, client, admin, enrollment_app, request, database_url, tmp_path):
    """Institution B runs a program of 3 people (1 mentor, 2 mentees, 2 pairs), known to
    feedback through real enrollment and pairing events."""
    b = _institutions(client, admin)["B"]

    def post(url, body, status=201):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == status, response.json
        return response.json

    program = post(
        f"/api/institutions/{b}/programs", {"name": "Q", "program_type": "faculty_mentoring"}
    )
    cycle = post(f"/api/programs/{program['id']}/cycles", {"name": "q1"})
    for n, (role, level) in enumerate((("mentor", "PGY5"), ("mentee", "PGY1"), ("mentee", "PGY1"))):
        person = post(
            "/api/people",
            {
                "institution_id": b,
                "name": f"B person {n}",
                "email": f"b{n}@example.org",
                "training_level": level,
            },
        )
        body = {"person_id": person["id"], "role": role}
        if role == "mentor":
            body["capacity"] = 2
        post(f"/api/cycles/{cycle['id']}/enrollments", body)
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        enrollment_events = [e for _, e in source.store.read_all(conn)]

    if database_url.startswith("sqlite"):
        pairing_url = f"sqlite:///{tmp_path / 'pairing-b'}.db"
    else:
        pairing_url = request.getfixturevalue("pg_database_factory")("pairingb")
    upgrade(PAIRING.migrations, pairing_url)
    pairing_app = create_pairing_app(pairing_url)
    prt = pairing_app.extensions["tandem"]
    try:
        deliver(PAIRING, prt, enrollment_events)
        pc = pairing_app.test_client()
        ran = pc.post(
            f"/api/cycles/{cycle['id']}/runs", json={"algorithm": "stable"}, headers=admin
        )
        assert ran.status_code == 201, ran.json
        published = pc.post(f"/api/cycles/{cycle['id']}/proposal/publish", headers=admin)
        assert published.status_code == 200 and len(published.json) == 2, published.json
        with prt.reading() as conn:
            pairing_events = [e for _, e in prt.store.read_all(conn)]
    finally:
        prt.engine.dispose()
    deliver(FEEDBACK, world["rt"], enrollment_events)
    deliver(FEEDBACK, world["rt"], pairing_events, topic="tandem.pairing.v1")
    return {"institution_id": b, "program_id": program["id"]}


def test_outcomes_per_institution_and_program_are_deidentified_and_suppressed(
    world, client, admin, small_program_in_b
):
    c, h = world["client"], world["headers"]
    a = _institutions(client, admin)["A"]
    [program] = client.get(f"/api/institutions/{a}/programs", headers=admin).json

    pair = world["pair_of"]("big-mentor1")
    mentor = world["by_id"][pair["mentor_id"]]
    for minutes in (30, 60):
        meeting = {
            "date": dt.date.today().isoformat(),
            "duration_minutes": minutes,
            "mode": "in_person",
        }
        logged = c.post(f"/api/pairs/{pair['pair_id']}/meetings", json=meeting, headers=h(mentor))
        assert logged.status_code == 201, logged.json
    instance = _issued(world)  # semiannual review, issued to the big cycle's 9
    url = f"/api/survey-instances/{instance['instance_id']}/responses"
    for n, key in enumerate(
        ["big-mentee0", "big-mentee1", "big-mentee2", "big-mentee3", "big-mentor2"]
    ):
        answered = c.post(url, json={"answers": {**GOOD, "helpful": 1 + n}}, headers=h(key))
        assert answered.status_code == 201, answered.json

    response = c.get("/api/outcomes", headers=world["admin"])
    assert response.status_code == 200, response.json
    out = response.json
    assert out["min_people"] == 5
    by_institution = {i["institution_id"]: i for i in out["institutions"]}
    assert set(by_institution) == {a, small_program_in_b["institution_id"]}

    inst_a = by_institution[a]
    [prog_a] = inst_a["programs"]
    assert prog_a["program_id"] == program["id"]
    for row in (inst_a, prog_a):  # one program: the institution adds up to it
        assert row["cycles"] == 3
        # big: 6 pairs of 9 people; small: 2 pairs of 3; group: 1 group of 4
        assert row["pairs"] == {
            "suppressed": False, "people": 16, "pairs": 8, "groups": 1, "families": 0
        }  # fmt: skip
        assert row["meetings"] == {
            "suppressed": False,
            "people": 16,
            "meetings": 2,
            "per_pair_mean": round(2 / 9, 2),
            "confirmed_share": 0.0,
            "pairs_without_meeting_share": round(8 / 9, 3),
        }
        assert row["surveys"] == {
            "suppressed": False,
            "people": 9,
            "issued": 9,
            "responded": 5,
            "rate": round(5 / 9, 3),
        }
        assert row["likert"] == {"suppressed": False, "people": 5, "answers": 5, "mean": 3.0}

    inst_b = by_institution[small_program_in_b["institution_id"]]
    [prog_b] = inst_b["programs"]
    assert prog_b["program_id"] == small_program_in_b["program_id"]
    for row in (inst_b, prog_b):  # 3 people: no figure at all
        assert row["cycles"] == 1
        for part in ("pairs", "meetings", "surveys", "likert"):
            assert row[part] == SUPPRESSED

    shown = json.dumps(out)
    assert not any(p["id"] in shown for p in world["people"].values())
    assert pair["pair_id"] not in shown

    only_b = c.get(
        f"/api/outcomes?institution_id={small_program_in_b['institution_id']}",
        headers=world["admin"],
    ).json
    assert [i["institution_id"] for i in only_b["institutions"]] == [
        small_program_in_b["institution_id"]
    ]
    for refused in (world["coordinator"], world["outsider"], h("big-mentee0")):
        assert c.get("/api/outcomes", headers=refused).status_code == 403
