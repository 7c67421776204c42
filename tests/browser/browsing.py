"""What the browser tests do in a page: sign in, take a screenshot, check accessibility."""

from __future__ import annotations

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from live import PASSWORD
from playwright.sync_api import Page

SCREENSHOTS = Path(__file__).parent / "screenshots"
# WCAG 2.x A and AA, as axe-core tags them.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home")


def screenshot(page: Page, role: str, name: str) -> None:
    folder = SCREENSHOTS / role
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def assert_accessible(page: Page) -> None:
    """No WCAG A/AA violations that axe-core can find in the page as it is now."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:3])
        for v in results.response["violations"]
    ]
    assert not problems, f"{page.url}:\n" + "\n".join(problems)


def assert_fits_phone(page: Page, role: str, name: str) -> None:
    """A page open on a phone: no sideways scrolling, no axe violations, and a screenshot."""
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    assert_accessible(page)
    screenshot(page, role, name)
