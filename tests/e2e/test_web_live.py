"""The web in front of the running suite: sign-in as seeded people, through every service."""

from __future__ import annotations

import pytest
from live import seed_program

pytestmark = [pytest.mark.kafka]


def test_a_seeded_coordinator_signs_in_and_sees_their_institution(live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1)

    web = live_suite.browser_session(program.coordinator["email"])
    home = web.get("/home")

    assert home.status_code == 200
    assert program.institution["name"] in home.text
    assert "Coordinator" in home.text
