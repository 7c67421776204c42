"""Single sign-on in Chromium: the first sign-in through the institution's provider binds the
account to the provider's subject; after the provider changes the person's email they still
get in; another account at the provider with the same email is refused with an explanation.
Each page passes axe-core and is saved."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from browsing import DESKTOP, assert_accessible, screenshot
from live import LiveSuite
from playwright.sync_api import Browser, Page
from sso_web import Sso, running_sso

pytestmark = [pytest.mark.kafka]


@pytest.fixture(scope="module")
def sso(live_suite: LiveSuite, tmp_path_factory) -> Iterator[Sso]:
    with running_sso(live_suite, tmp_path_factory.mktemp("oidc")) as running:
        yield running


def fresh_page(browser: Browser, sso: Sso) -> Page:
    context = browser.new_context(base_url=sso.url, viewport=DESKTOP)
    context.set_default_timeout(20_000)
    return context.new_page()


def through_northfield(page: Page, sub: str) -> None:
    page.goto("/sign-in")
    page.get_by_role("link", name="Sign in with Northfield SSO").click()
    page.get_by_label("User").fill(sub)
    page.get_by_role("button", name="Sign in").click()


def test_single_sign_on_follows_the_providers_subject(browser: Browser, sso: Sso) -> None:
    person = sso.person(sso.a, "Eli Sso")
    sub = f"north-eli-{secrets.token_hex(2)}"
    sso.north.add_user(sub, email=person["email"], email_verified=True)

    page = fresh_page(browser, sso)
    page.goto("/sign-in")
    assert_accessible(page)
    through_northfield(page, sub)
    page.wait_for_url("**/home")
    page.get_by_text("Eli Sso").first.wait_for()
    assert_accessible(page)
    screenshot(page, "sso", "signed-in")
    page.context.close()

    # The provider now has another address for the same account: matched by its subject.
    sso.north.add_user(
        sub, email=f"eli.{secrets.token_hex(3)}@renamed.example", email_verified=True
    )
    page = fresh_page(browser, sso)
    through_northfield(page, sub)
    page.wait_for_url("**/home")
    page.get_by_text("Eli Sso").first.wait_for()
    page.context.close()

    # Another account at the provider arrives with the person's email: refused, and told why.
    other = f"north-eli-other-{secrets.token_hex(2)}"
    sso.north.add_user(other, email=person["email"], email_verified=True)
    page = fresh_page(browser, sso)
    through_northfield(page, other)
    page.wait_for_url("**/sign-in/sso/north/callback*")
    alert = page.get_by_role("alert")
    assert "linked to another Northfield SSO account" in alert.inner_text()
    assert page.get_by_label("Password").is_visible()  # the other way in is right there
    assert_accessible(page)
    screenshot(page, "sso", "other-subject-refused")
    page.goto("/home")
    assert "/sign-in" in page.url  # not signed in
    page.context.close()
