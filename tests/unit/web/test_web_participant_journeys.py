"""Who reaches the pages for one participant, a mentee's conflicts and taking part: roles are
checked before any service is asked, and every form needs its CSRF token."""

from __future__ import annotations

import pytest
from web_support import csrf_from, sign_in_as

from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant

STAFF_PAGES = ("/coordinator/enrollments/e-1", "/coordinator/cycles/c-1/participants/new")


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_participants_are_not_offered_the_coordinators_pages(make_client, path):
    client = make_client()
    sign_in_as(client, Grant(MENTEE, "inst-1", "prog-1"), person_id="p-mentee")

    assert client.get(path).status_code == 403
    assert client.post(path, data={}).status_code in (400, 403)


def test_only_mentees_declare_conflicts_with_mentors(make_client):
    client = make_client()
    sign_in_as(client, Grant(MENTOR, "inst-1", "prog-1"), person_id="p-mentor")
    token = csrf_from(client.get("/home").text)

    response = client.post(
        "/me/enrollments/e-1/conflicts", data={"csrf_token": token, "other_person_id": "p-2"}
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("grant", "path"),
    [
        (Grant(COORDINATOR, "inst-1"), "/coordinator/cycles/c-1/participants/new"),
        (Grant(COORDINATOR, "inst-1"), "/coordinator/enrollments/e-1"),
        (Grant(MENTEE, "inst-1", "prog-1"), "/me/enrollments/e-1/identity"),
        (Grant(MENTEE, "inst-1", "prog-1"), "/me/enrollments/e-1/conflicts"),
        (Grant(MENTEE, "inst-1", "prog-1"), "/me/enrollments/e-1/withdraw"),
        (Grant(MENTEE, "inst-1", "prog-1"), "/me/pair/pair-1/rematch"),
    ],
)
def test_every_form_needs_its_csrf_token(make_client, grant, path):
    client = make_client()
    sign_in_as(client, grant, person_id="p-1")

    response = client.post(path, data={"reason": "no token"})

    assert response.status_code == 400
    assert "nothing was changed" in response.text
