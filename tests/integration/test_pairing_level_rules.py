"""A cycle's eligible levels per role through HTTP: set before the first run (recorded as an
event, refused after), previewed person by person, applied by runs with the rule named in each
unmatched reason, and family compositions honoured — on a pool from real enrollment events."""

import pytest

from services.eventkit.auth import COORDINATOR, Grant
from services.eventkit.migrations import upgrade
from services.pairing.app import create_app as create_pairing_app
from services.pairing.service import SERVICE as PAIRING
from support import auth_headers, deliver


@pytest.fixture
def make_cycle(client, admin, enrollment_app, request, database_url, tmp_path):
    """make_cycle(pairing_format, [(name, level, role, capacity)]) -> a cycle projected into a
    pairing database, with a coordinator's headers."""
    apps = []

    def post(url, body):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    def make(pairing_format, people, **cycle_fields):
        inst = post("/api/institutions", {"name": "N", "short_code": "N", "time_zone": "UTC"})
        program = post(
            f"/api/institutions/{inst['id']}/programs",
            {"name": "P", "program_type": "resident_peer_mentoring"},
        )
        cycle = post(
            f"/api/programs/{program['id']}/cycles",
            {"name": "2026-27", "pairing_format": pairing_format, **cycle_fields},
        )
        ids = {}
        for name, level, role, capacity in people:
            person = post("/api/people", {"institution_id": inst["id"], "name": name,
                                          "email": f"{name.replace(' ', '')}@x.org",
                                          "training_level": level})  # fmt: skip
            body = {"person_id": person["id"], "role": role}
            if role == "mentor":
                body["capacity"] = capacity
            post(f"/api/cycles/{cycle['id']}/enrollments", body)
            ids[name] = person["id"]
        url = (
            f"sqlite:///{tmp_path / f'pairing{len(apps)}.db'}"
            if database_url.startswith("sqlite")
            else request.getfixturevalue("pg_database_factory")(f"pairing{len(apps)}")
        )
        upgrade(PAIRING.migrations, url)
        app = create_pairing_app(url)
        apps.append(app)
        source = enrollment_app.extensions["tandem"]
        with source.reading() as conn:
            deliver(PAIRING, app.extensions["tandem"], [e for _, e in source.store.read_all(conn)])
        coordinator = auth_headers(Grant(COORDINATOR, inst["id"]), user="coord")
        return cycle["id"], ids, app.test_client(), coordinator

    yield make
    for app in apps:
        app.extensions["tandem"].engine.dispose()


STUDENTS_AND_COACHES = [
    *((f"Student {n}", "MS6", "mentee", None) for n in range(4)),
    ("Visiting Fellow", "fellow", "mentee", None),
    ("Coach One", "PGY1", "mentor", 2),
    ("Coach Two", "PGY1", "mentor", 2),
    ("Senior Three", "PGY3", "mentor", 2),
]


def test_levels_are_previewed_set_once_and_name_the_rule(make_cycle):
    cycle_id, ids, api, coordinator = make_cycle("one_to_one", STUDENTS_AND_COACHES)
    url = f"/api/cycles/{cycle_id}/level-rules"
    # Until set, the level gap of 2 alone: the PGY1 coaches are shut out, and it says why.
    before = api.get(url, headers=coordinator).json
    assert not before["is_set"] and before["editable"]
    reasons = {r["name"]: r["reason"] for r in before["left_out"]}
    assert reasons["Coach One"] == "no eligible mentee is 2 or more training years below PGY1"
    assert [c["rule"] for c in before["counts"]] == ["min_level_gap"]

    wanted = {"mentee_levels": ["MS6"], "mentor_levels": ["PGY1"], "min_level_gap": 1}
    preview = api.post(f"{url}/preview", json=wanted, headers=coordinator).json
    assert {r["name"]: r["reason"] for r in preview["left_out"]} == {
        "Visiting Fellow": "fellow is not an eligible mentee level for this cycle",
        "Senior Three": "PGY3 is not an eligible mentor level for this cycle",
    }
    assert {c["rule"]: c["count"] for c in preview["counts"]} == {
        "mentee_levels": 1,
        "mentor_levels": 1,
    }
    assert not api.get(url, headers=coordinator).json["is_set"]  # a preview records nothing

    bad = api.put(url, json={"mentee_levels": ["intern"], "min_level_gap": 11},
                  headers=coordinator)  # fmt: skip
    assert bad.status_code == 422
    assert set(bad.json["errors"]["json"]) == {"mentee_levels", "min_level_gap"}
    family_only = api.put(url, json={"senior_levels": ["PGY4"]}, headers=coordinator)
    assert family_only.status_code == 422 and "format" in family_only.json["errors"]["json"]

    saved = api.put(url, json=wanted, headers=coordinator)
    assert saved.status_code == 200 and saved.json["is_set"]
    assert saved.json["rules"]["mentor_levels"] == ["PGY1"]

    run = api.post(f"/api/cycles/{cycle_id}/runs", json={"algorithm": "optimal"},
                   headers=coordinator)  # fmt: skip
    assert run.status_code == 201, run.json
    paired = {p["mentee_id"] for p in run.json["pairs"]}
    assert paired == {ids[f"Student {n}"] for n in range(4)}
    assert {u["person_id"]: u["reason"] for u in run.json["unmatched"]} == {
        ids["Visiting Fellow"]: "fellow is not an eligible mentee level for this cycle",
        ids["Senior Three"]: "PGY3 is not an eligible mentor level for this cycle",
    }
    assert run.json["settings"]["level_rules"]["mentee_levels"] == ["MS6"]

    again = api.put(url, json=wanted, headers=coordinator)
    assert again.status_code == 422 and "first run" in again.json["message"]
    assert not api.get(url, headers=coordinator).json["editable"]


def test_a_family_composition_is_honoured(make_cycle):
    people = [
        *((f"Senior {n}", "PGY5", "mentor", 4) for n in range(2)),
        *((f"Mid {n}", "PGY3", "mentor", 4) for n in range(2)),
        *((f"Intern {n}", "PGY1", "mentee", None) for n in range(3)),
        *((f"Second {n}", "PGY2", "mentee", None) for n in range(2)),
        ("Student", "MS4", "mentee", None),
    ]
    cycle_id, ids, api, coordinator = make_cycle("family", people)
    rules = {
        "senior_levels": ["PGY4", "PGY5"],
        "mid_levels": ["PGY3"],
        "junior_slots": [{"levels": ["PGY1"], "count": 1}, {"levels": ["PGY2"], "count": 1}],
        "min_level_gap": 1,
    }
    overlap = {**rules, "junior_slots": [{"levels": ["PGY1"], "count": 1}] * 2}
    refused = api.put(f"/api/cycles/{cycle_id}/level-rules", json=overlap, headers=coordinator)
    assert refused.status_code == 422 and "junior_slots" in refused.json["errors"]["json"]
    saved = api.put(f"/api/cycles/{cycle_id}/level-rules", json=rules, headers=coordinator)
    assert saved.status_code == 200, saved.json
    assert {r["name"]: r["reason"] for r in saved.json["left_out"]} == {
        "Student": "MS4 is not an eligible junior level for this cycle"
    }
    run = api.post(f"/api/cycles/{cycle_id}/runs", json={"algorithm": "families"},
                   headers=coordinator)  # fmt: skip
    assert run.status_code == 201, run.json
    level = {pid: name.split()[0] for name, pid in ids.items()}
    assert len(run.json["families"]) == 2
    for family in run.json["families"]:
        assert sorted(level[j] for j in family["junior_ids"]) == ["Intern", "Second"]
    unmatched = {u["person_id"]: u["reason"] for u in run.json["unmatched"]}
    assert unmatched[ids["Student"]] == "MS4 is not an eligible junior level for this cycle"
    interns = {ids[f"Intern {n}"] for n in range(3)}
    assert [unmatched[i] for i in interns if i in unmatched] == ["all eligible families full"]


def test_a_mentor_ranking_mentees_sees_only_eligible_levels(make_cycle):
    cycle_id, ids, api, coordinator = make_cycle("one_to_one", STUDENTS_AND_COACHES)
    wanted = {"mentee_levels": ["MS6"], "mentor_levels": ["PGY1"], "min_level_gap": 1}
    assert api.put(f"/api/cycles/{cycle_id}/level-rules", json=wanted,
                   headers=coordinator).status_code == 200  # fmt: skip
    pool = api.get(f"/api/cycles/{cycle_id}/candidates", headers=coordinator).json
    coach = next(c for c in pool if c["person_id"] == ids["Coach One"])
    seen = api.get(f"/api/enrollments/{coach['enrollment_id']}/eligible-mentees",
                   headers=coordinator).json  # fmt: skip
    assert {m["name"] for m in seen} == {f"Student {n}" for n in range(4)}
