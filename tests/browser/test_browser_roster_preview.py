"""A coordinator in Chromium re-imports a roster: the preview shows, before anything changes, an
email that matches an existing person only by letter case (the same person, their new name shown)
and changed training levels old -> new; confirming applies it and the summary counts it right.
Then invitations on the coordinator's schedule: a roster invited at a date shows as scheduled,
one invited now as invited, and a participant who has signed in as such. Each page passes
axe-core and is saved, on a desktop and a phone."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from browsing import DESKTOP, PHONE, assert_accessible, screenshot, sign_in
from live import seed_program

from support import wait_until

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


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_invitations_at_a_date_and_who_has_signed_in(new_page, live_suite, viewport):
    """A roster invited tomorrow at 08:00 (the institution's time) shows as scheduled; one of
    them invited now shows as invited; a participant who has signed in shows so."""
    program = seed_program(live_suite, mentors=0, mentees=1, wait_for_pairing=False)
    (early,) = program.mentees
    tag = secrets.token_hex(3)
    roster = (
        HEADER
        + f"Rae Later,rae.{tag}@riverside.example,mentee,PGY1,General Surgery,\n"
        + f"Sol Later,sol.{tag}@riverside.example,mentee,PGY1,General Surgery,\n"
    ).encode()
    suffix = "" if viewport is DESKTOP else "-phone"
    mentee = new_page()
    sign_in(mentee, early["email"])  # a participant who has signed in

    page = new_page()
    page.set_viewport_size(viewport)
    sign_in(page, program.coordinator["email"])
    page.goto(f"/coordinator/cycles/{program.cycle_id}/roster")
    page.set_input_files(
        "#roster-file", files=[{"name": "roster.csv", "mimeType": "text/csv", "buffer": roster}]
    )
    page.get_by_role("button", name="Check the file").click()
    page.locator("#roster-preview-table").wait_for()
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    page.get_by_label("Invite them at a date and time").check()
    page.locator("#invite-at").fill(f"{tomorrow.isoformat()}T08:00")
    assert_accessible(page)
    screenshot(page, "coordinator", f"roster-invite-at{suffix}")
    page.get_by_role("button", name="Confirm and import").click()
    page.get_by_role("status").filter(has_text="Roster imported").wait_for()

    page.goto(f"/coordinator/participants?cycle={program.cycle_id}")

    def state(name: str) -> str:
        row = page.locator("tbody tr").filter(has_text=name)
        return row.locator(".invitation-state").inner_text()

    def signed_in(name: str) -> str:
        return page.locator("tbody tr").filter(has_text=name).locator(".signed-in").inner_text()

    # Notifications learns of the schedule through the event stream: reload until it has.
    for _ in range(40):
        if "Scheduled" in state("Sol Later") and "Scheduled" in state("Rae Later"):
            break
        page.wait_for_timeout(250)
        page.reload()
    when = tomorrow.strftime("%d %b %Y") + ", 08:00"
    assert state("Rae Later").split() == ["Scheduled", "for", *when.split()]
    assert "Scheduled" in state("Sol Later")
    assert signed_in("Rae Later") == "Not yet"
    assert state(early["name"]).startswith("Invited")
    assert signed_in(early["name"]).startswith("Yes")
    assert_accessible(page)
    screenshot(page, "coordinator", f"participants-invitations{suffix}")

    # One of them invited now: sent at once, the other still scheduled.
    page.get_by_label("Select Rae Later to invite").check()
    page.get_by_role("button", name="Invite selected now").click()
    page.get_by_text("1 participant is being invited now").wait_for()

    def invited() -> bool:
        page.reload()
        return state("Rae Later").startswith("Invited")

    wait_until(invited, timeout_s=60, interval_s=1)
    assert "Scheduled" in state("Sol Later")
    wait_until(lambda: live_suite.smtp.mailbox.to(f"rae.{tag}@riverside.example"), timeout_s=60)
    assert live_suite.smtp.mailbox.to(f"sol.{tag}@riverside.example") == []
    assert_accessible(page)
    screenshot(page, "coordinator", f"participants-invited{suffix}")
