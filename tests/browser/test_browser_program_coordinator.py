"""A program coordinator in Chromium: only their program and its part of the trail are offered."""

from __future__ import annotations

import pytest
from browsing import assert_accessible, screenshot, sign_in
from live import seed_program, seed_program_coordinator, seed_second_program

from support import wait_until

pytestmark = [pytest.mark.kafka]


def test_a_program_coordinator_works_in_their_program_only(new_page, live_suite):
    first = seed_program(live_suite, mentors=1, mentees=1, wait_for_pairing=False)
    institution = first.institution["id"]
    _, other_cycle = seed_second_program(live_suite, institution)
    me = seed_program_coordinator(live_suite, institution, first.program["id"])
    page = new_page()
    sign_in(page, me["email"])

    # Their program's part of the trail, never the other program's.
    page.get_by_role("link", name="Audit trail").first.click()
    page.wait_for_url("**/coordinator/audit**")

    def shows_my_cycle() -> bool:
        page.reload()
        return first.cycle_id[:8] in page.locator("main").inner_text()

    wait_until(shows_my_cycle, timeout_s=60, interval_s=1)
    assert other_cycle["id"][:8] not in page.locator("main").inner_text()
    assert_accessible(page)

    page.get_by_role("link", name="Programs").first.click()
    page.wait_for_url("**/coordinator/programs")
    assert page.get_by_role("heading", name=first.program["name"]).count() == 1
    assert page.get_by_text("Lab resident coaching").count() == 0
    assert page.get_by_role("heading", name="Create a program").count() == 0
    assert_accessible(page)
    screenshot(page, "program-coordinator", "programs")

    page.get_by_role("link", name=first.cycle["name"]).first.click()
    page.wait_for_url(f"**/coordinator/cycles/{first.cycle_id}")
    assert page.locator("h1").count() == 1
    assert_accessible(page)
