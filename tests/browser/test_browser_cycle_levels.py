"""A coordinator in Chromium sets a cycle's eligible levels before running it: PGY1 coaches of
medical students (the preview names everyone a rule leaves out, and changes as the levels do),
and mentoring families of one intern and one PGY2 each. Pages pass axe-core, desktop and phone."""

from __future__ import annotations

from collections import Counter

import pytest
from browsing import PHONE, assert_accessible, assert_fits_phone, screenshot, sign_in
from live import LiveSuite, Program, seed_program

from support import wait_until

pytestmark = [pytest.mark.kafka]


def enroll(live: LiveSuite, program: Program, name: str, level: str, role: str) -> dict:
    """A person of the program's institution at `level`, enrolled in its cycle."""
    tag = program.institution["short_code"].lower()
    person = live.ok("enrollment", "POST", "/api/people", {
        "institution_id": program.institution["id"], "name": name, "training_level": level,
        "email": f"{name.lower().replace(' ', '.')}.{tag}@riverside.example",
    })  # fmt: skip
    body = {"person_id": person["id"], "role": role, "interests": ["education"]}
    if role == "mentor":
        body["capacity"] = 3
    live.ok("enrollment", "POST", f"/api/cycles/{program.cycle_id}/enrollments", body)
    return person


def wait_for_pool(live: LiveSuite, program: Program, count: int) -> None:
    path = f"/api/cycles/{program.cycle_id}/candidates"

    def arrived() -> bool:
        response = live.api("pairing", "GET", path)
        return response.ok and len(response.json()) >= count

    wait_until(arrived, timeout_s=60)


def preview_rows(page) -> dict[str, str]:
    """Name -> reason, as the preview table shows them."""
    # Read in one go: htmx may swap the preview in while the rows are read.
    rows = page.evaluate(
        "() => Array.from(document.querySelectorAll('#levels-preview tbody tr'))"
        ".map(r => [r.querySelector('th').innerText, r.lastElementChild.innerText])"
    )
    return dict(rows)


def test_pgy1_coaches_of_students_nobody_left_out_for_a_level_gap(new_page, live_suite):
    program = seed_program(live_suite, mentors=0, mentees=0, wait_for_pairing=False)
    for name, level in (("Ana Student", "MS4"), ("Ben Student", "MS4"),
                        ("Cy Student", "MS6"), ("Di Student", "MS6")):  # fmt: skip
        enroll(live_suite, program, name, level, "mentee")
    for name in ("Eve Coach", "Fay Coach"):
        enroll(live_suite, program, name, "PGY1", "mentor")
    enroll(live_suite, program, "Rhea Resident", "PGY3", "mentor")
    wait_for_pool(live_suite, program, 7)

    page = new_page()
    sign_in(page, program.coordinator["email"])
    page.goto(f"/coordinator/cycles/{program.cycle_id}/pairing")
    levels = page.locator("#levels")
    assert "Not set yet" in levels.inner_text()

    # Only PGY1s coach: the preview names the PGY3, and the final-year students a gap of 2 shuts out.
    levels.get_by_role("group", name="Mentor levels").get_by_label("PGY1", exact=True).check()
    page.wait_for_function("() => document.querySelector('#levels-preview h3')"
                           " && document.querySelector('#levels-preview h3').innerText.startsWith('Preview')")  # fmt: skip
    wait_until(lambda: len(preview_rows(page)) == 3, timeout_s=10)
    assert preview_rows(page) == {
        "Rhea Resident": "PGY3 is not an eligible mentor level for this cycle",
        "Cy Student": "no eligible mentor is 2 or more training years above MS6",
        "Di Student": "no eligible mentor is 2 or more training years above MS6",
    }
    assert_accessible(page)
    screenshot(page, "coordinator", "levels-preview-gap")

    # Students in their fourth or final year, and a gap of one year: only the PGY3 is left out.
    students = levels.get_by_role("group", name="Mentee levels")
    students.get_by_label("MS4", exact=True).check()
    students.get_by_label("MS6", exact=True).check()
    gap = levels.get_by_label("Minimum level gap (training years)")
    gap.fill("1")
    gap.press("Tab")
    wait_until(lambda: list(preview_rows(page)) == ["Rhea Resident"], timeout_s=10)
    assert "Eligible mentor levels: 1 left out" in page.locator("#levels-preview").inner_text()
    levels.get_by_role("button", name="Save eligible levels").click()
    page.get_by_text("Eligible levels saved").wait_for()
    saved = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/level-rules")
    assert saved["rules"]["mentor_levels"] == ["PGY1"] and saved["rules"]["min_level_gap"] == 1
    assert_accessible(page)
    screenshot(page, "coordinator", "levels-saved")

    page.get_by_role("button", name="Run pairing").click()
    page.locator("#proposal-status").wait_for()
    proposal = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/proposal")
    assert {p["mentee_name"] for p in proposal["pairs"]} == {
        "Ana Student", "Ben Student", "Cy Student", "Di Student"
    }  # fmt: skip
    assert {p["mentor_name"] for p in proposal["pairs"]} <= {"Eve Coach", "Fay Coach"}
    assert [(u["name"], u["reason"]) for u in proposal["unmatched"]] == [
        ("Rhea Resident", "PGY3 is not an eligible mentor level for this cycle")
    ]
    assert not any("level gap" in u["reason"] for u in proposal["unmatched"])
    assert_accessible(page)
    screenshot(page, "coordinator", "levels-run")

    # Run once, the levels are fixed; the page says so, on a phone too.
    phone = new_page(PHONE)
    sign_in(phone, program.coordinator["email"])
    phone.goto(f"/coordinator/cycles/{program.cycle_id}/pairing#levels")
    assert "levels are fixed" in phone.locator("#levels").inner_text()
    assert_fits_phone(phone, "coordinator", "levels-phone")


def test_families_of_one_intern_and_one_pgy2_each(new_page, live_suite):
    program = seed_program(
        live_suite, mentors=0, mentees=0, wait_for_pairing=False,
        cycle={"name": "Families 2026", "pairing_format": "family"},
    )  # fmt: skip
    levels = {}
    for name, level, role in (
        ("Sam Senior", "PGY5", "mentor"), ("Sue Senior", "PGY4", "mentor"),
        ("Mo Mid", "PGY3", "mentor"), ("Mia Mid", "PGY3", "mentor"),
        ("Ian Intern", "PGY1", "mentee"), ("Ina Intern", "PGY1", "mentee"),
        ("Ivo Intern", "PGY1", "mentee"),
        ("Pat Second", "PGY2", "mentee"), ("Pia Second", "PGY2", "mentee"),
    ):  # fmt: skip
        levels[enroll(live_suite, program, name, level, role)["id"]] = level
    wait_for_pool(live_suite, program, 9)

    page = new_page()
    sign_in(page, program.coordinator["email"])
    page.goto(f"/coordinator/cycles/{program.cycle_id}/pairing")
    section = page.locator("#levels")
    # The form starts from the usual family: senior PGY4/5, mid-level PGY3, an intern and a PGY2.
    first = section.get_by_role("group", name="Junior place 1")
    assert first.get_by_label("PGY1", exact=True).is_checked()
    assert first.get_by_label("Juniors of this place per family").input_value() == "1"
    second = section.get_by_role("group", name="Junior place 2 (optional)")
    assert second.get_by_label("PGY2", exact=True).is_checked()
    # Until levels are set, the gap of 2 alone keeps the PGY2s from their PGY3 mid-level.
    assert preview_rows(page) == {
        name: "no eligible mid-level is 2 or more training years above PGY2"
        for name in ("Pat Second", "Pia Second")
    }
    section.get_by_label("Minimum level gap (training years)").fill("1")
    section.get_by_role("button", name="Preview").click()
    wait_until(lambda: "Nobody" in page.locator("#levels-preview").inner_text(), timeout_s=10)
    section.get_by_role("button", name="Save eligible levels").click()
    page.get_by_text("Eligible levels saved").wait_for()
    assert_accessible(page)
    screenshot(page, "coordinator", "families-composition")

    page.get_by_role("button", name="Run pairing").click()
    page.locator("#proposal-status").wait_for()
    proposal = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/proposal")
    assert len(proposal["families"]) == 2
    for family in proposal["families"]:
        assert Counter(levels[j] for j in family["junior_ids"]) == {"PGY1": 1, "PGY2": 1}
    left = [u for u in proposal["unmatched"] if levels.get(u["person_id"]) == "PGY1"]
    assert [u["reason"] for u in left] == ["all eligible families full"]
    assert_accessible(page)
    screenshot(page, "coordinator", "families-run")

    phone = new_page(PHONE)
    sign_in(phone, program.coordinator["email"])
    phone.goto(f"/coordinator/cycles/{program.cycle_id}/pairing#levels")
    assert_fits_phone(phone, "coordinator", "families-phone")
