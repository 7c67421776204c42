"""The seed programs that pair people in units, in Chromium: HKU-style group coaching (junior
residents coaching final-year students in groups of 5) and UChicago-style mentoring families
(intern, PGY2, mid-level and senior). A coordinator runs and publishes pairing in the browser;
then no one-to-one pair appears anywhere (pairing page, program health, each member's pages,
notices, meeting and concern forms), and every member sees the whole group or family. Each page
passes axe-core and is saved as a screenshot, on a desktop and on a phone."""

from __future__ import annotations

import re
import secrets

import pytest
from browsing import DESKTOP, PHONE, assert_accessible, screenshot, sign_in
from live import LiveSuite, Program, seed_program
from playwright.sync_api import Page

from services.eventkit.auth import MENTEE, MENTOR, Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]


def _enroll(live: LiveSuite, program: Program, name: str, level: str, role: str) -> dict:
    """Someone of the program's institution, enrolled in its cycle, with a web sign-in."""
    email = f"{name.lower().replace(' ', '.')}.{secrets.token_hex(3)}@harbour.example"
    body = {"institution_id": program.institution["id"], "name": name, "email": email,
            "training_level": level}  # fmt: skip
    person = live.ok("enrollment", "POST", "/api/people", body)
    live.account(person["id"], email)
    enrolment = {"person_id": person["id"], "role": role, "interests": ["careers"]}
    if role == "mentor":
        enrolment["capacity"] = 5
    live.ok("enrollment", "POST", f"/api/cycles/{program.cycle_id}/enrollments", enrolment)
    return {**person, "email": email, "role": role}


def _pool_ready(live: LiveSuite, program: Program, count: int) -> None:
    path = f"/api/cycles/{program.cycle_id}/candidates"

    def arrived() -> bool:  # the cycle, then every candidate, reach pairing
        response = live.api("pairing", "GET", path)
        return response.ok and len(response.json()) >= count

    wait_until(arrived, timeout_s=60)


def _run_and_publish(page: Page, program: Program, shot: str, **fields: str) -> None:
    """The coordinator runs pairing on the cycle's page and publishes the draft."""
    page.goto(f"/coordinator/cycles/{program.cycle_id}/pairing")
    for name, value in fields.items():
        field = page.locator(f"#run-{name}")
        if field.count():  # the rules form may ask for levels in another way
            field.fill(value)
    page.get_by_role("button", name="Run pairing").click()
    page.locator("#proposal-status").wait_for()
    assert_accessible(page)
    screenshot(page, "coordinator", f"{shot}-proposal")
    page.get_by_role("button", name=re.compile(r"^Publish \d+ (groups|families)$")).click()
    page.locator("#published-count").wait_for()


def _text(page: Page) -> str:
    return page.locator("main").inner_text()


def _both_screens(page: Page, role: str, name: str) -> None:
    """Axe and a screenshot as the page is, then again at phone width (no sideways scroll)."""
    assert_accessible(page)
    screenshot(page, role, name)
    page.set_viewport_size(PHONE)
    page.reload()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    screenshot(page, role, f"{name}-phone")
    page.set_viewport_size(DESKTOP)


def _wait_for_unit(live: LiveSuite, program: Program, person: dict) -> None:
    role = MENTOR if person["role"] == "mentor" else MENTEE
    who = Principal(person["id"], (Grant(role, program.institution["id"], program.program["id"]),))
    wait_until(lambda: live.ok("feedback", "GET", "/api/me/pairs", principal=who), timeout_s=60)


def _member_pages(page: Page, person: dict, everyone: list[dict], kind: str, role: str) -> None:
    """The member's pairing, meeting form, concern form and inbox: the one group or family,
    once, with everyone in it; never a pair."""
    sign_in(page, person["email"])
    page.goto("/me/pair")
    text = _text(page)
    assert page.locator("section.me-card").count() == 1
    assert f"A {kind}" in text and "A pair since" not in text
    assert "Who you are paired with" not in text
    for other in everyone:
        if other["id"] != person["id"]:
            assert other["name"] in text, other["name"]
    _both_screens(page, role, f"{kind.split()[-1]}-pairing")

    page.goto("/me/meetings")
    # Every form on the page is about the one unit, and its meeting is logged once.
    targets = {i.get_attribute("value") for i in page.locator("input[name=pair_id]").all()}
    assert len(targets) == 1
    assert page.get_by_role("button", name=re.compile("^Log meeting")).count() == 1
    assert page.locator("input[name=attendees]").count() == len(everyone) - 1
    _both_screens(page, role, f"{kind.split()[-1]}-meetings")

    page.goto("/me/concern")
    options = page.locator("select[name=pair_id] option").all_inner_texts()
    assert len([o for o in options if o.strip() and not o.startswith("Choose")]) == 1, options
    _both_screens(page, role, f"{kind.split()[-1]}-concern")

    page.goto("/me/inbox")
    subjects = page.locator("article.inbox-item h3")

    def told() -> bool:
        page.reload()
        return any(kind in s for s in subjects.all_inner_texts())

    wait_until(told, timeout_s=30, interval_s=1)
    assert [s for s in subjects.all_inner_texts() if kind in s] != []
    assert not [s for s in subjects.all_inner_texts() if "pairing: meet" in s]
    _both_screens(page, role, f"{kind.split()[-1]}-inbox")
    page.context.clear_cookies()


def test_group_coaching_shows_groups_and_no_pair_anywhere(new_page, live_suite):
    """HKU: final-year medical students coached by junior residents in groups of 5."""
    cycle = {"name": "2026-27", "pairing_format": "group", "group_size": 5,
             "meeting_expectations": "Every two weeks", "review_months": [6]}  # fmt: skip
    program = seed_program(live_suite, mentors=0, mentees=0, cycle=cycle, wait_for_pairing=False)
    coaches = [_enroll(live_suite, program, f"Coach {c} Resident", "PGY1", "mentor") for c in "AB"]
    students = [
        _enroll(live_suite, program, f"Student {n} Final", "MS6", "mentee") for n in range(10)
    ]
    _pool_ready(live_suite, program, 12)

    page = new_page()
    sign_in(page, program.coordinator["email"])
    _run_and_publish(page, program, "group", min_level_gap="1")
    published = page.locator("#published")
    assert published.locator("h2").inner_text() == "Published groups"
    assert "2 active groups" in published.inner_text()
    assert published.locator("tbody tr").count() == 2
    assert published.get_by_text("Coach", exact=True).count() == 2
    assert published.get_by_text("Member", exact=True).count() == 10
    assert "Published pairs" not in _text(page)
    assert live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs") == []
    _both_screens(page, "coordinator", "group-pairing-published")

    _wait_for_unit(live_suite, program, coaches[0])
    page.goto(f"/coordinator/cycles/{program.cycle_id}/health")
    assert page.locator("#health-units").inner_text() == "Active in this cycle: 2 groups."
    assert page.locator("#health-meetings").inner_text() == "Groups and meetings"
    _both_screens(page, "coordinator", "group-health")
    page.context.clear_cookies()

    units = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/units")
    coach = coaches[0]
    group = next(u for u in units if u["members"][0]["person_id"] == coach["id"])
    ids = {m["person_id"] for m in group["members"]}
    members = [m for m in [*coaches, *students] if m["id"] in ids]
    assert len(members) == 6
    for person in (coach, next(m for m in members if m["role"] == "mentee")):
        _wait_for_unit(live_suite, program, person)
        role = "coach" if person is coach else "student"
        _member_pages(page, person, members, "coaching group", role)


def test_families_show_each_member_the_whole_family(new_page, live_suite):
    """UChicago: an intern and a PGY2 with a mid-level and a senior resident in each family."""
    cycle = {"name": "2026-27", "pairing_format": "family", "review_months": [6]}
    program = seed_program(live_suite, mentors=0, mentees=0, cycle=cycle, wait_for_pairing=False)
    people = [
        _enroll(live_suite, program, name, level, role)
        for name, level, role in (
            ("Sam Senior", "PGY5", "mentor"), ("Sue Senior", "PGY4", "mentor"),
            ("Mia Mid", "PGY3", "mentor"), ("Max Mid", "research_resident", "mentor"),
            ("Ian Intern", "PGY1", "mentee"), ("Ida Intern", "PGY1", "mentee"),
            ("Pat Second", "PGY2", "mentee"), ("Pia Second", "PGY2", "mentee"),
        )
    ]  # fmt: skip
    _pool_ready(live_suite, program, len(people))

    page = new_page()
    sign_in(page, program.coordinator["email"])
    _run_and_publish(page, program, "family", min_level_gap="1", juniors_per_family="2")
    published = page.locator("#published")
    assert published.locator("h2").inner_text() == "Published families"
    assert "2 active families" in published.inner_text()
    assert published.locator("tbody tr").count() == 2
    for label, n in (("Senior resident", 2), ("Mid-level resident", 2), ("Junior", 4)):
        assert published.get_by_text(label, exact=True).count() == n, label
    assert "Published pairs" not in _text(page)
    _both_screens(page, "coordinator", "family-pairing-published")

    _wait_for_unit(live_suite, program, people[0])
    page.goto(f"/coordinator/cycles/{program.cycle_id}/health")
    assert page.locator("#health-units").inner_text() == "Active in this cycle: 2 families."
    _both_screens(page, "coordinator", "family-health")
    page.context.clear_cookies()

    (family, _) = sorted(
        live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/units"),
        key=lambda u: u["members"][0]["name"],
    )
    members = [p for p in people if p["id"] in {m["person_id"] for m in family["members"]}]
    roles = {m["person_id"]: m["role"] for m in family["members"]}
    junior = next(p for p in members if roles[p["id"]] == "junior")
    mid = next(p for p in members if roles[p["id"]] == "mid")
    for person, shot in ((junior, "junior"), (mid, "mid-level")):
        _wait_for_unit(live_suite, program, person)
        _member_pages(page, person, members, "mentoring family", shot)
