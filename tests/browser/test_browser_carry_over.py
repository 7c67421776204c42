"""A longitudinal program in Chromium: interns paired with a PGY4 mentor last year stay with
them in the next year's cycle. The coordinator runs the new cycle keeping the earlier cycle's
pairs: they come back pinned, and a newcomer is paired afresh. Desktop and phone, axe-core."""

from __future__ import annotations

import pytest
from browsing import PHONE, assert_accessible, assert_fits_phone, screenshot, sign_in
from live import publish_pairs, seed_program

from support import wait_until

pytestmark = [pytest.mark.kafka]


def test_last_years_pairs_are_kept_in_the_next_cycle(new_page, live_suite):
    program = seed_program(live_suite, mentors=2, mentees=3)
    last_year = {(p["mentee_id"], p["mentor_id"]) for p in publish_pairs(live_suite, program)}
    assert len(last_year) == 3

    # The next year's cycle: everyone re-enrolls, and a new intern joins.
    program_id = program.program["id"]
    next_cycle = live_suite.ok("enrollment", "POST", f"/api/programs/{program_id}/cycles",
                               {"name": "2027-28"})  # fmt: skip
    newcomer = live_suite.ok("enrollment", "POST", "/api/people", {
        "institution_id": program.institution["id"], "name": "Nia Newcomer",
        "training_level": "PGY1",
        "email": f"nia.{program.institution['short_code'].lower()}@riverside.example",
    })  # fmt: skip
    for person, role in (*((m, "mentor") for m in program.mentors),
                         *((m, "mentee") for m in [*program.mentees, newcomer])):  # fmt: skip
        body = {"person_id": person["id"], "role": role, "interests": ["trauma"]}
        if role == "mentor":
            body["capacity"] = 2
        live_suite.ok("enrollment", "POST", f"/api/cycles/{next_cycle['id']}/enrollments", body)

    def arrived() -> bool:
        response = live_suite.api("pairing", "GET", f"/api/cycles/{next_cycle['id']}/candidates")
        return response.ok and len(response.json()) >= 6

    wait_until(arrived, timeout_s=60)

    page = new_page()
    sign_in(page, program.coordinator["email"])
    page.goto(f"/coordinator/cycles/{next_cycle['id']}/pairing")
    page.get_by_label("Keep pairs from an earlier cycle").select_option(label="2026-27")
    assert_accessible(page)
    screenshot(page, "coordinator", "carry-over-rules")
    page.get_by_role("button", name="Run pairing").click()
    page.locator("#proposal-status").wait_for()

    proposal = live_suite.ok("pairing", "GET", f"/api/cycles/{next_cycle['id']}/proposal")
    kept = {(p["mentee_id"], p["mentor_id"]) for p in proposal["pairs"] if p["pinned"]}
    assert kept == last_year
    fresh = [p for p in proposal["pairs"] if not p["pinned"]]
    assert [p["mentee_id"] for p in fresh] == [newcomer["id"]]
    assert_accessible(page)
    screenshot(page, "coordinator", "carry-over-proposal")

    phone = new_page(PHONE)
    sign_in(phone, program.coordinator["email"])
    phone.goto(f"/coordinator/cycles/{next_cycle['id']}/pairing#proposal")
    assert_fits_phone(phone, "coordinator", "carry-over-phone")
