"""GET /api/people/by-email: the web's sign-in lookup, for the system principal only."""

import pytest

from services.eventkit.auth import ADMIN, COORDINATOR, MENTEE, SYSTEM, Grant
from support import auth_headers


@pytest.fixture
def system():
    """Headers of the web's system token (the key lives in the test's own var dir)."""
    return auth_headers(Grant(SYSTEM), user="system")


@pytest.fixture
def person(client, admin):
    institution = client.post(
        "/api/institutions",
        json={"name": "Northfield", "short_code": "NUH", "time_zone": "UTC"},
        headers=admin,
    )
    assert institution.status_code == 201, institution.json
    response = client.post(
        "/api/people",
        json={
            "institution_id": institution.json["id"],
            "name": "Ada Example",
            "email": "Ada.Example@Northfield.example",
            "training_level": "PGY1",
        },
        headers=admin,
    )
    assert response.status_code == 201, response.json
    return response.json


def test_the_system_finds_a_person_by_email(client, system, person):
    response = client.get(
        "/api/people/by-email",
        query_string={"email": "ada.example@northfield.example"},
        headers=system,
    )

    assert response.status_code == 200
    assert response.json == {
        "id": person["id"],
        "name": "Ada Example",
        "institution_id": person["institution_id"],
        "email": "ada.example@northfield.example",
    }


def test_the_lookup_ignores_case(client, system, person):
    response = client.get(
        "/api/people/by-email",
        query_string={"email": "ADA.EXAMPLE@NORTHFIELD.EXAMPLE"},
        headers=system,
    )

    assert response.status_code == 200
    assert response.json["id"] == person["id"]


def test_an_unknown_email_is_404(client, system, person):
    response = client.get(
        "/api/people/by-email",
        query_string={"email": "nobody@northfield.example"},
        headers=system,
    )

    assert response.status_code == 404


@pytest.mark.parametrize("email", ["not-an-email", "", "a@", "@b.org"])
def test_a_malformed_email_is_422(client, system, email):
    response = client.get("/api/people/by-email", query_string={"email": email}, headers=system)

    assert response.status_code == 422


def test_a_missing_email_is_422(client, system):
    assert client.get("/api/people/by-email", headers=system).status_code == 422


@pytest.mark.parametrize(
    "grant",
    [Grant(ADMIN), Grant(COORDINATOR, "any-institution"), Grant(MENTEE, "any-institution")],
    ids=["admin", "coordinator", "mentee"],
)
def test_only_the_system_may_look_people_up(client, person, grant):
    response = client.get(
        "/api/people/by-email",
        query_string={"email": person["email"]},
        headers=auth_headers(grant, user=person["id"]),
    )

    assert response.status_code == 403


def test_the_lookup_needs_a_token(client, person):
    response = client.get("/api/people/by-email", query_string={"email": person["email"]})

    assert response.status_code == 401


def test_the_lookup_does_not_shadow_reading_a_person(client, admin, person):
    response = client.get(f"/api/people/{person['id']}", headers=admin)

    assert response.status_code == 200
    assert response.json["id"] == person["id"]
