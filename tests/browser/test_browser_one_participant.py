"""A coordinator in Chromium, one person at a time: adds a participant (a mistake first, nothing
typed is lost), edits their details and profile, declares a conflict of interest on a mentee's
behalf, withdraws and enrolls them again. Each page passes axe-core and is saved."""

from __future__ import annotations

import secrets

import pytest
from browsing import assert_accessible, screenshot, sign_in
from live import seed_program

pytestmark = [pytest.mark.kafka]


def test_a_coordinator_adds_edits_withdraws_and_reenrolls_one_participant(new_page, live_suite):
    program = seed_program(live_suite, mentors=2, mentees=0, wait_for_pairing=False)
    mentor = program.mentors[0]
    email = f"uma.{secrets.token_hex(3)}@riverside.example"
    page = new_page()
    sign_in(page, program.coordinator["email"])

    page.goto(f"/coordinator/participants?cycle={program.cycle_id}")
    page.get_by_role("link", name="Add a participant").click()
    page.wait_for_url("**/participants/new")
    assert_accessible(page)

    # A mistake: no training level and a mentor without a capacity is not what the service takes.
    page.get_by_label("Full name").fill("Uma Intern")
    page.get_by_label("Work email").fill("not-an-email")
    page.get_by_role("button", name="Add and enroll").click()
    page.get_by_role("alert").first.wait_for()
    assert page.get_by_label("Full name").input_value() == "Uma Intern"  # nothing lost
    assert page.locator("#new-email-error").is_visible()
    assert page.locator("#new-training_level-error").is_visible()
    assert_accessible(page)
    screenshot(page, "coordinator", "participant-new-refused")

    page.get_by_label("Work email").fill(email)
    page.get_by_label("Training level").select_option("PGY1")
    page.get_by_label("Role in this cycle").select_option("mentee")
    page.get_by_role("button", name="Add and enroll").click()
    page.wait_for_url("**/coordinator/enrollments/*")
    page.get_by_text("Uma Intern is enrolled as a mentee").wait_for()
    enrollment_id = page.url.rsplit("/", 1)[-1].split("#")[0]
    assert_accessible(page)
    screenshot(page, "coordinator", "participant")

    # Details: a refused name keeps what was typed; then the training level changes.
    page.get_by_label("Full name").fill("")
    page.get_by_label("Training level").select_option("PGY2")
    page.get_by_role("button", name="Save details").click()
    page.locator("#person-name-error").wait_for()
    assert page.get_by_label("Training level").input_value() == "PGY2"
    page.get_by_label("Full name").fill("Uma Intern")
    page.get_by_role("button", name="Save details").click()
    page.get_by_text("Uma Intern's details are saved.").wait_for()
    people = live_suite.ok("enrollment", "GET", f"/api/enrollments/{enrollment_id}")
    assert people["training_level"] == "PGY2"

    page.get_by_label("Interests").fill("research, wellness")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("profile for this cycle is saved").wait_for()
    assert live_suite.ok("enrollment", "GET", f"/api/enrollments/{enrollment_id}")["interests"] == [
        "research",
        "wellness",
    ]

    # A conflict of interest on the mentee's behalf: listed here, kept by enrollment.
    page.get_by_role("button", name="Declare the conflict").click()
    page.locator("#conflict-other_person_id-error").wait_for()
    page.get_by_label("Mentor", exact=True).select_option(label=mentor["name"])
    page.get_by_label("Why").select_option("supervisor")
    page.get_by_role("button", name="Declare the conflict").click()
    page.get_by_text(f"A conflict of interest with {mentor['name']} is recorded").wait_for()
    section = page.locator("#conflicts")
    assert mentor["name"] in section.inner_text() and "Supervisor" in section.inner_text()
    conflicts = live_suite.ok("enrollment", "GET", f"/api/enrollments/{enrollment_id}/conflicts")
    assert conflicts == [{"other_person_id": mentor["id"], "kind": "supervisor"}]
    assert_accessible(page)
    screenshot(page, "coordinator", "participant-conflict")

    # Withdraw (asked first), then enroll again.
    page.get_by_label("Reason for withdrawing (optional)").fill("Parental leave")
    page.get_by_role("button", name="Withdraw Uma Intern").click()
    page.get_by_text("Uma Intern is withdrawn from the cycle.").wait_for()
    assert "Parental leave" in page.content()
    assert page.get_by_role("button", name="Save profile").count() == 0
    screenshot(page, "coordinator", "participant-withdrawn")
    page.get_by_role("button", name="Enroll Uma Intern again").click()
    page.get_by_text("Uma Intern is enrolled again.").wait_for()
    status = live_suite.ok("enrollment", "GET", f"/api/enrollments/{enrollment_id}")["status"]
    assert status == "active"
    assert_accessible(page)

    # The roster links to the page; adding the same email again enrolls no one twice.
    page.goto(f"/coordinator/participants?cycle={program.cycle_id}")
    page.get_by_role("link", name="Uma Intern").click()
    page.wait_for_url(f"**/coordinator/enrollments/{enrollment_id}")
    page.goto(f"/coordinator/cycles/{program.cycle_id}/participants/new")
    page.get_by_label("Full name").fill("Uma Intern")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Training level").select_option("PGY1")
    page.get_by_role("button", name="Add and enroll").click()
    page.locator("#new-email-error").wait_for()
    assert "already a mentee in this cycle" in page.locator("#new-email-error").inner_text()
