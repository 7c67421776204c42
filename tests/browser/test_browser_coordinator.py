"""A coordinator in Chromium: imports a roster (a bad row first), runs pairing, changes a pair
and publishes; each page passes axe-core and is saved as a screenshot."""

from __future__ import annotations

import secrets

import pytest
from browsing import PHONE, assert_accessible, screenshot, sign_in
from live import publish_pairs, seed_program

from support import wait_until

pytestmark = [pytest.mark.kafka]

HEADER = "name,email,role,training_level,interests,capacity\n"


def _roster(tag: str, bad_line: bool) -> bytes:
    rows = [
        f"Maya Mentor,maya.{tag}@riverside.example,mentor,PGY5,research;trauma,2\n",
        f"Noor Mentor,noor.{tag}@riverside.example,mentor,PGY4,wellness,2\n",
        f"Ivy Intern,ivy.{tag}@riverside.example,mentee,PGY1,research,\n",
        f"Jon Intern,jon.{tag}@riverside.example,mentee,PGY1,wellness,\n",
        f"Kai Intern,kai.{tag}@riverside.example,mentee,PGY1,trauma,\n",
    ]
    if bad_line:
        rows.append(f"Lou Intern,not-an-email-{tag},mentee,PGY1,trauma,\n")
    return (HEADER + "".join(rows)).encode()


def test_a_coordinator_imports_a_roster_runs_pairing_edits_and_publishes(new_page, live_suite):
    program = seed_program(live_suite, mentors=0, mentees=0)
    tag = secrets.token_hex(3)
    page = new_page()
    sign_in(page, program.coordinator["email"])
    assert_accessible(page)
    screenshot(page, "coordinator", "home")

    page.get_by_role("link", name="Programs", exact=True).first.click()
    page.wait_for_url("**/coordinator/programs")
    assert_accessible(page)
    screenshot(page, "coordinator", "programs")

    # A roster with one bad row: every problem inline, no one imported.
    page.goto(f"/coordinator/cycles/{program.cycle_id}/roster")
    page.set_input_files(
        "#roster-file",
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": _roster(tag, True)}],
    )
    page.get_by_role("button", name="Check the file").click()
    problems = page.get_by_role("region").filter(has_text="not-an-email").first
    problems.wait_for()
    assert "7" in problems.inner_text()  # the line of the bad row (line 1 is the header)
    assert_accessible(page)
    screenshot(page, "coordinator", "roster-refused")
    enrolled = live_suite.ok("enrollment", "GET", f"/api/cycles/{program.cycle_id}/enrollments")
    assert enrolled == []

    # The corrected file imports.
    page.set_input_files(
        "#roster-file",
        files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": _roster(tag, False)}],
    )
    page.get_by_role("button", name="Check the file").click()
    page.get_by_role("button", name="Confirm and import").click()
    page.get_by_text("Roster imported").first.wait_for()
    screenshot(page, "coordinator", "roster-imported")

    # Participants, found by active search.
    page.goto(f"/coordinator/participants?cycle={program.cycle_id}")
    page.get_by_label("Name", exact=False).first.fill("Ivy")
    page.wait_for_function(
        "() => document.querySelectorAll('tbody tr').length === 1"
        " && document.querySelector('tbody').innerText.includes('Ivy Intern')"
    )
    assert_accessible(page)
    screenshot(page, "coordinator", "participants")

    # Pairing waits until pairing has heard of all five people.
    def pool_ready() -> bool:
        response = live_suite.api("pairing", "GET", f"/api/cycles/{program.cycle_id}/candidates")
        return response.ok and len(response.json()) >= 5

    wait_until(pool_ready, timeout_s=60)
    page.goto(f"/coordinator/cycles/{program.cycle_id}/pairing")
    page.get_by_role("button", name="Run pairing").click()
    page.locator("#proposal-status").wait_for()
    assert page.locator(".pair-card").count() == 3
    assert_accessible(page)
    screenshot(page, "coordinator", "pairing-proposal")

    # Move Ivy to the other mentor, with a reason; focus lands on the status message.
    proposal = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/proposal")
    ivy = next(p for p in proposal["pairs"] if p["mentee_name"] == "Ivy Intern")
    card = page.locator(".pair-card").filter(has_text="Ivy Intern")
    card.locator("summary").click()
    card.get_by_label("Reason for the change").fill("Shares research interests")
    select = card.get_by_label("Mentor with room left")
    select.wait_for()
    other = next(
        option.get_attribute("value")
        for option in select.locator("option").all()
        if option.get_attribute("value") not in ("", ivy["mentor_id"])
    )
    select.select_option(other)
    card.get_by_role("button", name="Move").click()
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.id === 'proposal-status'"
    )
    moved = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/proposal")
    assert next(p for p in moved["pairs"] if p["mentee_name"] == "Ivy Intern")["mentor_id"] == other

    page.get_by_role("button", name="Publish").first.click()
    page.wait_for_function("() => document.querySelectorAll('#published tbody tr').length === 3")
    published = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs")
    assert len(published) == 3
    assert {p["mentor_id"] for p in published if p["mentee_id"] == ivy["mentee_id"]} == {other}
    assert_accessible(page)
    screenshot(page, "coordinator", "pairing-published")


def test_the_pairing_page_works_on_a_phone(new_page, live_suite):
    program = seed_program(live_suite, mentors=2, mentees=3)
    page = new_page(PHONE)
    sign_in(page, program.coordinator["email"])
    page.goto(f"/coordinator/cycles/{program.cycle_id}/pairing")
    page.get_by_role("button", name="Run pairing").click()
    page.locator("#proposal-status").wait_for()

    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    assert_accessible(page)
    screenshot(page, "coordinator", "pairing-phone")


def test_the_oversight_pages_are_accessible(new_page, live_suite):
    program = seed_program(live_suite, mentors=2, mentees=3)
    publish_pairs(live_suite, program)
    page = new_page()
    sign_in(page, program.coordinator["email"])
    cycle = f"/coordinator/cycles/{program.cycle_id}"
    for path, shot in (
        (cycle, "cycle"),
        (f"{cycle}/health", "health"),
        ("/coordinator/surveys", "surveys"),
        ("/coordinator/audit", "audit"),
        (f"{cycle}/export", "export"),
    ):
        response = page.goto(path)
        assert response is not None and response.ok, path
        assert page.locator("h1").count() == 1
        assert_accessible(page)
        screenshot(page, "coordinator", shot)
