"""The consortium admin in Chromium: institutions, coordinators, outcomes and the audit trail,
each accessible and saved as a screenshot."""

from __future__ import annotations

import secrets

import pytest
from browsing import assert_accessible, screenshot, sign_in
from live import publish_pairs, seed_admin, seed_program

pytestmark = [pytest.mark.kafka]


def test_the_admin_adds_an_institution_and_reads_the_consortium_pages(new_page, live_suite):
    admin = seed_admin(live_suite)
    publish_pairs(live_suite, seed_program(live_suite, mentors=1, mentees=2))
    page = new_page()
    sign_in(page, admin["email"])
    screenshot(page, "admin", "home")

    page.get_by_role("link", name="Institutions").first.click()
    page.wait_for_url("**/admin/institutions")
    assert_accessible(page)
    screenshot(page, "admin", "institutions")

    # A refused short code is explained at the field; a good one adds the institution.
    name = f"Harbour Medical School {secrets.token_hex(2)}"
    page.get_by_label("Name").fill(name)
    page.get_by_label("Short code").fill("no spaces allowed!")
    page.get_by_role("button", name="Add institution").click()
    page.locator(".field-error").first.wait_for()
    assert_accessible(page)
    page.get_by_label("Time zone").select_option("Europe/Dublin")
    page.get_by_label("Short code").fill(f"HMS{secrets.token_hex(2)}".upper())
    page.get_by_role("button", name="Add institution").click()
    page.wait_for_url("**/admin/coordinators**")
    assert name in page.content()
    assert_accessible(page)
    screenshot(page, "admin", "coordinators")

    for path, shot in (("/admin/outcomes", "outcomes"), ("/admin/audit", "audit")):
        page.goto(path)
        assert page.locator("h1").count() == 1
        assert_accessible(page)
        screenshot(page, "admin", shot)
    assert "ParticipantEnrolled" in page.content() or "Participant enrolled" in page.content()
