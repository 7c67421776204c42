"""A meeting on request in Chromium: a mentee (on a phone) asks her mentor for a meeting with two
of the times both availability grids share, on the institution's clock; a mistake first, shown
next to the times. The mentor (on a desktop) accepts one; both see it among their upcoming
meetings, and the live suite's SMTP server receives the calendar invitation (.ics) for each.
Every page passes axe-core and is saved, phone and desktop."""

from __future__ import annotations

import pytest
from browsing import DESKTOP, PHONE, assert_accessible, screenshot, sign_in
from live import publish_pairs, seed_program

from services.notifications.domain.invitations import parse
from support import wait_until

pytestmark = [pytest.mark.kafka]


def _calendars(live, address: str) -> list[dict[str, str]]:
    found = []
    for message in live.smtp.mailbox.to(address):
        for part in message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                lines = parse(part.get_content())
                found.append({name: value for name, _, value in lines})
    return found


def test_a_mentee_requests_a_meeting_and_the_mentor_accepts_one_time(new_page, live_suite):
    live = live_suite
    program = seed_program(live, mentors=1, mentees=1)
    mentor, mentee = program.mentors[0], program.mentees[0]
    for person, slots in ((mentor, ["tue-pm", "thu-pm"]), (mentee, ["tue-pm", "thu-pm", "sat-am"])):
        [enrollment] = live.ok("enrollment", "GET", f"/api/people/{person['id']}/enrollments")
        live.ok(
            "enrollment", "PATCH", f"/api/enrollments/{enrollment['id']}", {"availability": slots}
        )
    publish_pairs(live, program)

    # The mentee, on a phone: the times offered come from both grids.
    page = new_page(PHONE)
    sign_in(page, mentee["email"])

    def offered() -> bool:
        page.goto("/me/meetings")
        return page.get_by_text("Ask for a meeting").count() > 0 and (
            page.locator("input[name=options]").count() > 0
        )

    wait_until(offered, timeout_s=60, interval_s=1)
    page.get_by_text("Ask for a meeting").click()
    times = page.locator("input[name=options]")
    labels = [
        page.locator(f"label[for='{times.nth(i).get_attribute('id')}']").inner_text()
        for i in range(times.count())
    ]
    assert all(label.split()[0] in ("Tuesday", "Thursday") for label in labels[:4]), labels
    assert all(label.endswith("14:00") for label in labels[:4]), labels
    assert_accessible(page)
    screenshot(page, "mentee", "meeting-request-phone")

    # A mistake: no time ticked. The refusal sits next to the times; nothing typed is lost.
    page.get_by_label("Place or video link (optional)").fill("https://video.example/tandem-7")
    page.get_by_role("button", name="Send the request").click()
    page.get_by_role("alert").first.wait_for()
    assert page.locator("[id$='-options-error']").is_visible()
    assert "Offer 1 to 3 times." in page.locator("[id$='-options-error']").inner_text()
    assert page.get_by_label("Place or video link (optional)").input_value() == (
        "https://video.example/tandem-7"
    )
    assert_accessible(page)
    screenshot(page, "mentee", "meeting-request-refused-phone")

    page.locator("input[name=options]").nth(0).check()
    page.locator("input[name=options]").nth(1).check()
    page.get_by_label("Note (optional)").fill("Residency applications")
    page.get_by_role("button", name="Send the request").click()
    page.get_by_text("Your request is sent with 2 times").first.wait_for()
    page.get_by_text("Your request, waiting for an answer").wait_for()
    assert_accessible(page)
    chosen = labels[1]

    # The mentor, on a desktop: accepts the second time.
    desk = new_page(DESKTOP)
    sign_in(desk, mentor["email"])
    desk.goto("/me/meetings")
    desk.get_by_role("heading", name=f"{mentee['name']} asks to meet").wait_for()
    assert_accessible(desk)
    screenshot(desk, "mentor", "meeting-request-answer")
    desk.get_by_role("radio", name=chosen).check()
    desk.get_by_role("button", name="Accept this time").click()
    desk.get_by_text(f"The meeting is set for {chosen}").first.wait_for()
    upcoming = desk.locator(".upcoming-meeting")
    assert chosen in upcoming.first.inner_text()
    assert_accessible(desk)
    screenshot(desk, "mentor", "meetings-upcoming")

    # Both see it among their upcoming meetings, on either screen.
    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page.set_viewport_size(viewport)
        page.goto("/me/meetings")
        assert chosen in page.locator(".upcoming-meeting").first.inner_text()
        assert (
            "https://video.example/tandem-7" in page.locator(".upcoming-meeting").first.inner_text()
        )
        assert_accessible(page)
        screenshot(page, "mentee", f"meetings-upcoming-{name}")

    # The invitation reaches both through the live suite's SMTP server.
    for person in (mentee, mentor):
        [invite] = wait_until(lambda p=person: _calendars(live, p["email"]), timeout_s=60)
        assert invite["METHOD"] == "REQUEST" and invite["SEQUENCE"] == "0"
        assert invite["UID"].startswith("meeting-request-")
        assert invite["DTSTART"].endswith("T140000") and invite["TZID"] == "America/Chicago"
        assert invite["ORGANIZER"] == f"mailto:{mentee['email']}"
        assert invite["LOCATION"] == "https://video.example/tandem-7"
