"""The enrollment API on a real database: authentication, roles, institutions, field errors."""

import pytest

from services.eventkit import config
from services.eventkit.auth import ADMIN, COORDINATOR, MENTEE, Grant, Principal, TokenSigner
from support import auth_headers


def _headers(*grants: Grant, user: str = "u-1") -> dict[str, str]:
    return auth_headers(*grants, user=user)


@pytest.fixture
def two_institutions(client, admin):
    ids = []
    for name, code in (("Northfield", "NUH"), ("Lakeside", "LSM")):
        r = client.post(
            "/api/institutions",
            json={"name": name, "short_code": code, "time_zone": "UTC"},
            headers=admin,
        )
        assert r.status_code == 201, r.json
        ids.append(r.json["id"])
    return ids


def test_health_and_openapi_need_no_token(client):
    assert client.get("/healthz").status_code == 200
    spec = client.get("/api/openapi.json").json
    assert "/api/institutions" in spec["paths"] and "/api/stats" in spec["paths"]


@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Basic dXNlcjpwYXNz", "Bearer not-a-token"],
)
def test_missing_or_bad_tokens_get_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/institutions", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_token_gets_401(client):
    token = TokenSigner(config.token_key()).mint(Principal("u", (Grant(ADMIN),)), ttl_seconds=-60)
    response = client.get("/api/institutions", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and "expired" in response.json["message"]


def test_only_the_consortium_admin_adds_institutions(client, two_institutions):
    coordinator = _headers(Grant(COORDINATOR, two_institutions[0]))
    body = {"name": "Other", "short_code": "OTH", "time_zone": "UTC"}
    assert client.post("/api/institutions", json=body, headers=coordinator).status_code == 403


def test_a_coordinator_cannot_touch_another_institution(client, two_institutions):
    a, b = two_institutions
    coordinator_a = _headers(Grant(COORDINATOR, a))
    person = {
        "institution_id": b,
        "name": "Bo",
        "email": "bo@example.org",
        "training_level": "PGY1",
    }
    assert client.post("/api/people", json=person, headers=coordinator_a).status_code == 403
    assert client.get(f"/api/people?institution_id={b}", headers=coordinator_a).status_code == 403
    program = {"name": "P", "program_type": "faculty_mentoring"}
    assert (
        client.post(
            f"/api/institutions/{b}/programs", json=program, headers=coordinator_a
        ).status_code
        == 403
    )
    visible = client.get("/api/institutions", headers=coordinator_a).json
    assert [i["id"] for i in visible] == [a]


def test_mentees_cannot_register_people(client, two_institutions):
    a, _ = two_institutions
    mentee = _headers(Grant(MENTEE, a))
    person = {
        "institution_id": a,
        "name": "Bo",
        "email": "bo@example.org",
        "training_level": "PGY1",
    }
    assert client.post("/api/people", json=person, headers=mentee).status_code == 403


def test_field_errors_name_the_field(client, admin, two_institutions):
    a, _ = two_institutions
    bad = {"institution_id": a, "name": "", "email": "not-an-email", "training_level": "PGY1"}
    response = client.post("/api/people", json=bad, headers=admin)
    assert response.status_code == 422
    fields = response.json["errors"]["json"]
    assert set(fields) >= {"name", "email"}


def test_duplicate_email_is_refused_clearly_and_nothing_is_lost(client, admin, two_institutions):
    a, b = two_institutions
    first = {
        "institution_id": a,
        "name": "Ana",
        "email": "ana@example.org",
        "training_level": "PGY1",
    }
    assert client.post("/api/people", json=first, headers=admin).status_code == 201
    second = {**first, "institution_id": b, "email": "ANA@example.org"}
    response = client.post("/api/people", json=second, headers=admin)
    assert response.status_code == 422
    assert "email" in response.json["errors"]["json"]
    stats = client.get("/api/stats", headers=admin).json["counts"]
    assert stats["people"] == 1


def test_enrollment_flow_and_rules(client, admin, two_institutions):
    a, b = two_institutions
    program = client.post(
        f"/api/institutions/{a}/programs",
        json={"name": "Surgery peer mentoring", "program_type": "resident_peer_mentoring"},
        headers=admin,
    ).json
    cycle = client.post(
        f"/api/programs/{program['id']}/cycles", json={"name": "2026-27"}, headers=admin
    ).json
    mentor = client.post(
        "/api/people",
        json={
            "institution_id": a,
            "name": "Dr Mentor",
            "email": "m@example.org",
            "training_level": "PGY5",
        },
        headers=admin,
    ).json
    outsider = client.post(
        "/api/people",
        json={
            "institution_id": b,
            "name": "Out Sider",
            "email": "o@example.org",
            "training_level": "PGY1",
        },
        headers=admin,
    ).json
    url = f"/api/cycles/{cycle['id']}/enrollments"
    no_capacity = client.post(
        url, json={"person_id": mentor["id"], "role": "mentor"}, headers=admin
    )
    assert no_capacity.status_code == 422 and "capacity" in no_capacity.json["errors"]["json"]
    ok = client.post(
        url, json={"person_id": mentor["id"], "role": "mentor", "capacity": 2}, headers=admin
    )
    assert ok.status_code == 201
    again = client.post(
        url, json={"person_id": mentor["id"], "role": "mentor", "capacity": 2}, headers=admin
    )
    assert again.status_code == 422
    other = client.post(url, json={"person_id": outsider["id"], "role": "mentee"}, headers=admin)
    assert other.status_code == 422
    coordinator_b = _headers(Grant(COORDINATOR, b))
    assert client.get(url, headers=coordinator_b).status_code == 403
    assert len(client.get(url, headers=admin).json) == 1
