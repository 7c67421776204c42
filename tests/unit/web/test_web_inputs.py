"""The web answers odd or oversized input with a 4xx page, never a 500: NUL in query parameters
and form fields, undecodable bytes, and bodies over the cap (the roster upload may be larger)."""

from __future__ import annotations

import io

import pytest
from web_support import csrf_from, sign_in_as

from services.eventkit.auth import COORDINATOR, Grant


@pytest.fixture
def coordinator(make_client):
    client = make_client()
    sign_in_as(client, Grant(COORDINATOR, "inst-1"))
    return client


def test_nul_in_a_query_parameter_is_a_422_page(coordinator):
    response = coordinator.get("/coordinator/participants?q=a%00b")
    assert response.status_code == 422
    assert "may not contain NUL characters" in response.text
    assert response.mimetype == "text/html"


def test_nul_in_a_form_field_is_a_422_page(make_client):
    client = make_client()
    token = csrf_from(client.get("/sign-in").text)
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": "a\x00b@example.org", "password": "x"}
    )
    assert response.status_code == 422
    assert "Nothing was changed" in response.text


def test_bytes_that_are_not_utf8_do_not_break_a_page(make_client):
    # Werkzeug replaces what it cannot decode, so a CESU-8 surrogate never reaches the app.
    client = make_client()
    assert client.get("/sign-in?next=%ED%A0%80").status_code == 200


def test_a_body_over_the_cap_is_413(make_client):
    client = make_client()
    response = client.post("/sign-in", data={"email": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than the 1,048,576 bytes" in response.text


def test_a_roster_file_may_be_larger_than_the_cap(coordinator):
    """Past the cap it would be refused before the page runs; here it reaches the page, which
    finds enrollment down (these tests run without services)."""
    token = csrf_from(coordinator.get("/").text)  # the sign-out form's
    response = coordinator.post(
        "/coordinator/cycles/c-1/roster",
        data={"csrf_token": token, "file": (io.BytesIO(b"x" * 2_000_000), "r.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 503
