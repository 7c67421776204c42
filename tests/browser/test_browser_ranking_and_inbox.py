"""The mentor and mentee pages in real Chromium: htmx swaps that keep keyboard focus and tell
screen readers what changed, inline refusals, polling, and accessibility on a phone."""

from __future__ import annotations

import datetime as dt

import pytest
from browsing import PHONE, assert_accessible, screenshot, sign_in
from live import publish_pairs, seed_program

from support import wait_until

pytestmark = [pytest.mark.kafka]


def focused_id(page) -> str:
    return page.evaluate("() => document.activeElement ? document.activeElement.id : ''")


def test_ranking_buttons_save_at_once_and_keep_focus(new_page, live_suite):
    program = seed_program(live_suite, mentors=2, mentees=1)
    mentee = program.mentees[0]
    [enrollment] = live_suite.ok("enrollment", "GET", f"/api/people/{mentee['id']}/enrollments")
    mentors = live_suite.ok("enrollment", "GET", f"/api/cycles/{program.cycle_id}/mentors")
    a, b = sorted(mentors, key=lambda m: m["name"])
    page = new_page()
    sign_in(page, mentee["email"])
    page.get_by_role("link", name="Rank mentors").click()
    page.wait_for_url("**/me/ranking")

    def select_of(mentor: dict) -> str:
        return f"rank-{enrollment['id']}-{mentor['id']}"

    def ranking() -> list[str]:
        return live_suite.ok("enrollment", "GET", f"/api/enrollments/{enrollment['id']}")["ranking"]

    page.get_by_role("button", name=f"Add {a['name']} to your ranking").click()
    wait_until(lambda: focused_id(page) == select_of(a), timeout_s=10)
    page.get_by_role("button", name=f"Add {b['name']} to your ranking").click()
    wait_until(lambda: focused_id(page) == select_of(b), timeout_s=10)
    assert ranking() == [a["id"], b["id"]]

    page.get_by_role("button", name=f"Move {b['name']} up").click()
    wait_until(lambda: ranking() == [b["id"], a["id"]], timeout_s=10)
    wait_until(lambda: focused_id(page) == select_of(b), timeout_s=10)  # no Up button at the top
    assert page.inner_text("#ranking-announce").startswith(f"{b['name']} is now number 1.")
    assert page.url.endswith("/me/ranking")  # a swap, not a page load
    assert_accessible(page)

    # The rank choices and Save work as a form too.
    page.select_option(f"#{select_of(a)}", "1")
    page.select_option(f"#{select_of(b)}", "2")
    page.get_by_role("button", name="Save ranking").click()
    wait_until(lambda: ranking() == [a["id"], b["id"]], timeout_s=10)
    page.get_by_text("Your ranking is saved.", exact=True).wait_for()
    screenshot(page, "mentee", "ranking")


def test_the_pair_meetings_and_inbox_work_and_are_accessible_on_a_phone(new_page, live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1)
    publish_pairs(live_suite, program)
    mentee, mentor = program.mentees[0], program.mentors[0]
    page = new_page(PHONE)
    sign_in(page, mentee["email"])

    def shows(path: str, text: str) -> bool:
        page.goto(path)
        return text in page.content()

    wait_until(lambda: shows("/me/pair", f"mailto:{mentor['email']}"), timeout_s=60, interval_s=1)
    assert_accessible(page)
    screenshot(page, "mentee", "pair")

    page.goto("/me/meetings")
    future = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=4)).isoformat()
    page.get_by_label("Date").fill(future)
    page.get_by_role("button", name="Log meeting").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "A meeting cannot be dated in the future." in page.content()
    wait_until(lambda: focused_id(page).endswith("-errors"), timeout_s=10)
    assert_accessible(page)
    screenshot(page, "mentee", "meetings-refused")

    wait_until(lambda: shows("/me/inbox", "pairing: meet"), timeout_s=60, interval_s=1)
    assert_accessible(page)
    before = page.inner_text("#inbox-status")
    page.locator("button[id^=read-]").first.click()
    wait_until(lambda: page.inner_text("#inbox-status") != before, timeout_s=10)
    wait_until(lambda: page.evaluate("() => document.activeElement.tagName") == "H3", timeout_s=10)
    # The poll asks with the state it knows: nothing changed, so nothing is swapped.
    with page.expect_response(lambda r: "/me/inbox?known=" in r.url, timeout=25_000) as polled:
        pass
    assert polled.value.status == 204
    screenshot(page, "mentee", "inbox")

    for path, name in (
        ("/me/profile", "profile"),
        ("/me/ranking", "ranking-phone"),
        ("/me/surveys", "surveys"),
        ("/me/concern", "concern"),
        ("/me/guidelines", "guidelines"),
    ):
        page.goto(path)
        assert page.locator("h1").count() == 1
        assert_accessible(page)
        screenshot(page, "mentee", name)
