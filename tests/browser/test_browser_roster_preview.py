"""A coordinator in Chromium re-imports a roster: the preview shows, before anything changes, an
email that matches an existing person only by letter case (the same person, their new name shown)
and changed training levels old -> new; confirming applies it and the summary counts it right.
Each page passes axe-core and is saved, on a desktop and a phone."""

from __future__ import annotations

import secrets

import pytest
from browsing import DESKTOP, PHONE, assert_accessible, screenshot, sign_in
from live import seed_program

pytestmark = [pytest.mark.kafka]

HEADER = "name,email,role,training_level,specialty,interests\n"


def _enrolled(live_suite, cycle_id: str) -> list[dict]:
    return live_suite.ok("enrollment", "GET", f"/api/cycles/{cycle_id}/enrollments")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_reimport_is_previewed_then_applied_on_confirmation(new_page, live_suite, viewport):
    program = seed_program(live_suite, mentors=0, mentees=3, wait_for_pairing=False)
    ada, ben, cal = program.mentees
    shouted = ada["email"].upper()
    new_email = f"dee.new.{secrets.token_hex(3)}@riverside.example"
    roster = (
        HEADER
        + f"Mentee Alpha Example,{shouted},mentee,PGY1,General Surgery,trauma;research\n"
        + f"Mentee B Example,{ben['email']},mentee,PGY2,General Surgery,research;wellness\n"
        + f"Mentee C Example,{cal['email']},mentee,PGY2,General Surgery,wellness;leadership\n"
        + f"Dee New,{new_email},mentee,MS4,,\n"
    ).encode()
    page = new_page()
    page.set_viewport_size(viewport)
    sign_in(page, program.coordinator["email"])
    suffix = "" if viewport is DESKTOP else "-phone"

    page.goto(f"/coordinator/cycles/{program.cycle_id}/roster")
    page.set_input_files(
        "#roster-file", files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": roster}]
    )
    page.get_by_role("button", name="Check the file").click()
    table = page.locator("#roster-preview-table")
    table.wait_for()

    # Before confirming, nothing has changed: the same three people, the old name and levels.
    before = {e["name"]: e for e in _enrolled(live_suite, program.cycle_id)}
    assert set(before) == {"Mentee A Example", "Mentee B Example", "Mentee C Example"}
    ada_row = table.locator('tr[data-line="2"]')
    assert "Same person, email case differs" in ada_row.inner_text()
    assert "Name: Mentee A Example → Mentee Alpha Example" in ada_row.inner_text()
    assert ada["email"] in ada_row.inner_text()  # the directory's spelling, shown beside the file's
    for line in ("3", "4"):
        assert (
            "Training level: PGY1 → PGY2" in table.locator(f'tr[data-line="{line}"]').inner_text()
        )
    assert table.locator('tr[data-line="5"]').get_attribute("data-status") == "new"
    counts = " ".join(page.locator("#roster-preview-counts").inner_text().split())
    assert "New people 1 People with changes 3 Unchanged 0" in counts, counts
    assert_accessible(page)
    screenshot(page, "coordinator", f"roster-preview{suffix}")

    page.get_by_role("button", name="Confirm and import").click()
    summary = page.get_by_role("status").filter(has_text="Roster imported")
    summary.wait_for()
    text = " ".join(summary.inner_text().split())
    for label, value in (
        ("New people", 1),
        ("Updated", 3),
        ("Unchanged", 0),
        ("Newly enrolled", 1),
    ):
        assert f"{label} {value}" in text, text
    assert_accessible(page)
    screenshot(page, "coordinator", f"roster-applied{suffix}")

    after = {e["name"]: e for e in _enrolled(live_suite, program.cycle_id)}
    assert set(after) == {"Mentee Alpha Example", "Mentee B Example", "Mentee C Example", "Dee New"}
    assert after["Mentee Alpha Example"]["person_id"] == ada["id"]  # renamed, not duplicated
    assert after["Mentee B Example"]["training_level"] == "PGY2"
