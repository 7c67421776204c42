"""Signing in, the refusal of a form posted without its CSRF token, and accessibility of the
pages everyone sees, in real Chromium."""

from __future__ import annotations

import pytest
from browsing import PHONE, assert_accessible, screenshot, sign_in
from live import seed_program

pytestmark = [pytest.mark.kafka]


def test_public_pages_are_accessible_on_a_phone(new_page):
    page = new_page(PHONE)
    for path, name in (("/", "about"), ("/sign-in", "sign-in"), ("/password/forgot", "forgot")):
        page.goto(path)
        assert page.locator("h1").count() == 1
        assert_accessible(page)
        screenshot(page, "public", name)


def test_a_wrong_password_is_explained_inline(new_page, live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1, wait_for_pairing=False)
    page = new_page()

    sign_in_page = page.goto("/sign-in")
    assert sign_in_page is not None and sign_in_page.ok
    page.get_by_label("Email").fill(program.mentees[0]["email"])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "do not match an account" in alert.inner_text()
    assert page.url.endswith("/sign-in") or "/sign-in?" in page.url
    assert_accessible(page)


def test_a_post_without_the_csrf_token_is_refused(new_page, live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1, wait_for_pairing=False)
    page = new_page()
    sign_in(page, program.coordinator["email"])

    # The same request the sign-out button makes, minus the token the page carries.
    refused = page.request.post("/sign-out", form={}, max_redirects=0)
    forged = page.request.post("/sign-out", form={"csrf_token": "forged"}, max_redirects=0)

    assert refused.status == 400
    assert forged.status == 400
    assert "could not confirm that this form came from its own page" in refused.text()
    page.goto("/home")
    assert page.url.endswith("/home")  # still signed in: nothing was changed

    # The page's own form, with its token, works.
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in")
    assert "You have signed out." in page.content()


def test_home_pages_are_accessible_for_each_role(new_page, live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1, wait_for_pairing=False)
    for role, person in (
        ("coordinator", program.coordinator),
        ("mentor", program.mentors[0]),
        ("mentee", program.mentees[0]),
    ):
        page = new_page(PHONE)
        sign_in(page, person["email"])
        assert person["name"] in page.locator("h1").inner_text()
        assert_accessible(page)
        screenshot(page, role, "home")
