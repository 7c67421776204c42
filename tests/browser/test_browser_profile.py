"""A mentee's complete profile in Chromium: self-identification only with consent (and its
withdrawal), a conflict of interest with a mentor (which the coordinator sees), the link to
notification preferences, a rematch request with a reason from the pair page, and withdrawing
from the cycle after being asked to confirm. Each page passes axe-core and is saved."""

from __future__ import annotations

import pytest
from browsing import assert_accessible, screenshot, sign_in
from live import publish_pairs, seed_program

from services.eventkit.auth import MENTEE, Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]


def test_a_mentee_consents_declares_a_conflict_asks_for_a_rematch_and_withdraws(
    new_page, live_suite
):
    program = seed_program(live_suite, mentors=2, mentees=1)
    [pair] = publish_pairs(live_suite, program)
    mentee = program.mentees[0]
    other = next(m for m in program.mentors if m["id"] != pair["mentor_id"])
    as_mentee = Principal(
        mentee["id"], (Grant(MENTEE, program.institution["id"], program.program["id"]),)
    )
    wait_until(
        lambda: live_suite.ok("feedback", "GET", "/api/me/pairs", principal=as_mentee),
        timeout_s=60,
    )
    [enrollment] = live_suite.ok("enrollment", "GET", f"/api/people/{mentee['id']}/enrollments")
    path = f"/api/enrollments/{enrollment['id']}"
    q = f"#identity-{enrollment['id']}"

    page = new_page()
    sign_in(page, mentee["email"])
    page.goto("/me/profile")
    assert_accessible(page)

    # Notification preferences are one link away.
    page.get_by_role("link", name="notification preferences").click()
    page.wait_for_url("**/me/inbox#preferences")
    page.goto("/me/profile")

    # Answers without consent are refused, and kept for the second try.
    identity = page.locator(q)
    identity.get_by_label("underrepresented in medicine").select_option("yes")
    identity.get_by_label("Your gender").fill("woman")
    identity.get_by_role("button", name="Save with my consent").click()
    page.locator(f"{q}-consent-error").wait_for()
    assert page.locator(f"{q}-gender").input_value() == "woman"
    assert live_suite.ok("enrollment", "GET", path)["identity"] is None
    assert_accessible(page)
    screenshot(page, "mentee", "profile-consent-refused")

    page.locator(f"{q}-consent").check()
    page.locator(q).get_by_role("button", name="Save with my consent").click()
    page.get_by_text("Your self-identification for").wait_for()
    assert live_suite.ok("enrollment", "GET", path)["identity"] == {
        "urim": "yes",
        "gender": "woman",
    }
    page.locator(q).get_by_role("button", name="Withdraw consent and delete my answers").click()
    page.get_by_text("Your consent is withdrawn").wait_for()
    assert live_suite.ok("enrollment", "GET", path)["identity"] is None
    assert page.locator(f"{q}-gender").input_value() == ""

    # A conflict of interest with the other mentor.
    conflicts = page.locator(f"#conflict-{enrollment['id']}s")
    conflicts.get_by_label("Mentor", exact=True).select_option(label=other["name"])
    conflicts.get_by_label("Why").select_option("assessor")
    conflicts.get_by_role("button", name="Declare the conflict").click()
    page.get_by_text(f"A conflict of interest with {other['name']} is recorded").wait_for()
    assert "Assesses me" in page.locator(f"#conflict-{enrollment['id']}s").inner_text()
    assert live_suite.ok("enrollment", "GET", f"{path}/conflicts") == [
        {"other_person_id": other["id"], "kind": "assessor"}
    ]
    assert_accessible(page)
    screenshot(page, "mentee", "profile")

    coordinator = new_page()
    sign_in(coordinator, program.coordinator["email"])
    coordinator.goto(f"/coordinator/enrollments/{enrollment['id']}")
    assert other["name"] in coordinator.locator("#conflicts").inner_text()
    assert "Assessor" in coordinator.locator("#conflicts").inner_text()

    # A rematch, with a reason, from the pair page.
    page.goto("/me/pair")
    page.get_by_label("Why you would like a new match").fill("Our schedules never overlap")
    page.get_by_role("button", name="Ask for a new match").click()
    page.get_by_text("You asked your coordinators for a new match.").wait_for()
    assert "Our schedules never overlap" in page.content()
    pairs = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs")
    assert [(p["rematch_requested_by"], p["rematch_reason"]) for p in pairs] == [
        (mentee["id"], "Our schedules never overlap")
    ]
    assert_accessible(page)
    screenshot(page, "mentee", "pair-rematch-asked")

    # Pairing honours the conflict (it arrives through enrollment's events) and says so.
    def honoured() -> bool:
        pool = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/candidates")
        return any(c["conflicts"] for c in pool)

    wait_until(honoured, timeout_s=60)
    coordinator.goto(f"/coordinator/cycles/{program.cycle_id}/pairing")
    coordinator.get_by_text("Rematch asked").first.wait_for()
    row = coordinator.locator("#conflicts tbody tr")
    assert row.count() == 1
    assert [mentee["name"], other["name"], "Assessor"] == [
        row.locator("th, td").nth(i).inner_text() for i in range(3)
    ]
    assert_accessible(coordinator)
    screenshot(coordinator, "coordinator", "pairing-conflicts")

    # Leaving the cycle is asked first (the dialog is accepted, as the person would).
    page.goto("/me/profile")
    page.get_by_label("Why you are leaving").fill("Moving to another hospital")
    page.get_by_role("button", name="Withdraw from Surgery peer mentoring").click()
    page.get_by_text("You have withdrawn from Surgery peer mentoring").wait_for()
    assert live_suite.ok("enrollment", "GET", path)["status"] == "withdrawn"
    assert page.get_by_role("button", name="Withdraw from Surgery peer mentoring").count() == 0
    assert "Withdrawn" in page.locator("table").first.inner_text()
    assert_accessible(page)


def test_a_mentor_sees_no_conflict_form_and_can_leave(new_page, live_suite):
    program = seed_program(live_suite, mentors=1, mentees=0, wait_for_pairing=False)
    page = new_page()
    sign_in(page, program.mentors[0]["email"])
    page.goto("/me/profile")
    assert page.get_by_role("button", name="Declare the conflict").count() == 0
    assert page.get_by_role("button", name="Withdraw from Surgery peer mentoring").count() == 1
    assert_accessible(page)
