"""Both sides rank in Chromium: mentees rank mentors, mentors rank mentees (one marked not
acceptable), and the coordinator's stable run pairs them as textbook deferred acceptance on
those rankings does, showing where each side ranked the other. A conflict of interest declared
in the browser keeps apart two people who ranked each other first, and the coordinator sees it
on the participant and pairing pages. Each page passes axe-core and is saved, desktop and phone."""

from __future__ import annotations

import pytest
from browsing import PHONE, assert_accessible, screenshot, sign_in
from live import LiveSuite, Program, seed_program

from bench.pairing_shapes import bare_deferred_acceptance
from support import wait_until

pytestmark = [pytest.mark.kafka]


def _enrollments(live: LiveSuite, program: Program) -> dict[str, dict]:
    """Each person's enrollment in the cycle, by person id, mentors' capacity set to one."""
    found = live.ok("enrollment", "GET", f"/api/cycles/{program.cycle_id}/enrollments")
    for e in found:
        if e["role"] == "mentor":
            live.ok("enrollment", "PATCH", f"/api/enrollments/{e['id']}", {"capacity": 1})
    return {e["person_id"]: e for e in found}


def _rank(new_page, person: dict, link: str, names: list[str], refuse=(), viewport=None):
    """Sign in and rank `names` with the Add buttons (each saves at once), then mark `refuse`
    not acceptable; the page is left open."""
    page = new_page(viewport) if viewport else new_page()
    sign_in(page, person["email"])
    page.get_by_role("link", name=link).click()
    for name in names:
        page.get_by_role("button", name=f"Add {name} to your ranking").click()
        page.locator("#ranking-announce").get_by_text(f"{name} is now number").wait_for()
    for name in refuse:
        page.get_by_role("button", name=f"Mark {name} not acceptable").click()
        page.locator("#ranking-announce").get_by_text(f"{name} is marked not acceptable").wait_for()
    return page


def _pool_has(live: LiveSuite, program: Program, check) -> None:
    def ready() -> bool:
        pool = live.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/candidates")
        return check({c["enrollment_id"]: c for c in pool})

    wait_until(ready, timeout_s=60, interval_s=0.5)


def _run_stable(page, program: Program) -> None:
    page.goto(f"/coordinator/cycles/{program.cycle_id}/pairing")
    page.locator("#run-algorithm-stable").check()
    page.get_by_role("button", name="Run pairing").click()
    page.locator("#proposal-status").wait_for()


def test_a_two_sided_stable_run_follows_both_rankings(new_page, live_suite):
    live = live_suite
    program = seed_program(live, mentors=2, mentees=3)
    enrolled = _enrollments(live, program)
    ma, mb = program.mentors
    ea, eb, ec = program.mentees
    name = {p["id"]: p["name"] for p in (*program.mentors, *program.mentees)}

    # Every mentee ranks both mentors, A first; Mentor A ranks C, A, B; Mentor B ranks A, B and
    # would not accept C. The lists are complete, so scores decide nothing.
    mentee_lists = {e["id"]: [ma["id"], mb["id"]] for e in (ea, eb, ec)}
    mentor_lists = {ma["id"]: [ec["id"], ea["id"], eb["id"]], mb["id"]: [ea["id"], eb["id"]]}
    for mentee in (ea, eb, ec):
        page = _rank(
            new_page, mentee, "Rank mentors", [name[m] for m in mentee_lists[mentee["id"]]]
        )
    assert_accessible(page)
    screenshot(page, "mentee", "two-sided-ranking")
    page = _rank(new_page, ma, "Rank mentees", [name[e] for e in mentor_lists[ma["id"]]])
    assert_accessible(page)
    screenshot(page, "mentor", "mentee-ranking")
    page = _rank(
        new_page, mb, "Rank mentees", [name[e] for e in mentor_lists[mb["id"]]],
        refuse=[name[ec["id"]]], viewport=PHONE,
    )  # fmt: skip
    assert "Not acceptable" in page.content() and name[ec["id"]] in page.content()
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    assert_accessible(page)
    screenshot(page, "mentor", "mentee-ranking-phone")

    def ids(person_ids: list[str]) -> list[str]:
        return [enrolled[p]["id"] for p in person_ids]

    wanted = {
        enrolled[p]["id"]: ids(listed) for p, listed in {**mentee_lists, **mentor_lists}.items()
    }
    _pool_has(live, program, lambda pool: all(pool[e]["ranking"] == r for e, r in wanted.items()))

    coordinator = new_page()
    sign_in(coordinator, program.coordinator["email"])
    _run_stable(coordinator, program)
    proposal = live.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/proposal")
    # Mentor B's refusal of C leaves C off B's list.
    expected = bare_deferred_acceptance(
        mentee_lists,
        {ma["id"]: mentor_lists[ma["id"]], mb["id"]: [ea["id"], eb["id"]]},
        {ma["id"]: 1, mb["id"]: 1},
    )
    assert {(p["mentee_id"], p["mentor_id"]) for p in proposal["pairs"]} == expected
    assert expected == {(ec["id"], ma["id"]), (ea["id"], mb["id"])}
    for mentee, mentor, text in (
        (ec, ma, "Mentee ranked mentor #1; mentor ranked mentee #1."),
        (ea, mb, "Mentee ranked mentor #2; mentor ranked mentee #1."),
    ):
        card = coordinator.locator(".pair-card").filter(has_text=mentee["name"])
        assert mentor["name"] in card.inner_text()
        assert " ".join(card.locator(".pair-ranks").inner_text().split()) == text
    assert eb["id"] in {u["person_id"] for u in proposal["unmatched"]}
    assert_accessible(coordinator)
    screenshot(coordinator, "coordinator", "two-sided-stable-proposal")
    coordinator.set_viewport_size(PHONE)
    coordinator.reload()
    coordinator.locator(".pair-ranks").first.wait_for()
    assert_accessible(coordinator)
    screenshot(coordinator, "coordinator", "two-sided-stable-proposal-phone")


def test_a_declared_conflict_keeps_apart_two_who_ranked_each_other_first(new_page, live_suite):
    live = live_suite
    program = seed_program(live, mentors=2, mentees=1)
    enrolled = _enrollments(live, program)
    ma, mb = program.mentors
    [mentee] = program.mentees
    enrollment = enrolled[mentee["id"]]

    page = _rank(new_page, mentee, "Rank mentors", [ma["name"], mb["name"]])
    mentor_page = _rank(new_page, ma, "Rank mentees", [mentee["name"]])

    # The mentee declares Mentor A their supervisor.
    page.goto("/me/profile")
    conflicts = page.locator(f"#conflict-{enrollment['id']}s")
    conflicts.get_by_label("Mentor", exact=True).select_option(label=ma["name"])
    conflicts.get_by_label("Why").select_option("supervisor")
    conflicts.get_by_role("button", name="Declare the conflict").click()
    page.get_by_text(f"A conflict of interest with {ma['name']} is recorded").wait_for()
    assert_accessible(page)
    screenshot(page, "mentee", "conflict-declared")

    _pool_has(live, program, lambda pool: bool(pool[enrollment["id"]]["conflicts"]))
    # Mentor A no longer has the mentee to rank.
    mentor_page.reload()
    mentor_page.get_by_text("No mentee you could be paired with").wait_for()
    assert_accessible(mentor_page)

    coordinator = new_page()
    sign_in(coordinator, program.coordinator["email"])
    coordinator.goto(f"/coordinator/enrollments/{enrollment['id']}")
    declared = coordinator.locator("#conflicts").inner_text()
    assert ma["name"] in declared and "Supervisor" in declared
    assert_accessible(coordinator)
    screenshot(coordinator, "coordinator", "participant-conflict")

    _run_stable(coordinator, program)
    proposal = live.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/proposal")
    assert [(p["mentee_id"], p["mentor_id"]) for p in proposal["pairs"]] == [
        (mentee["id"], mb["id"])
    ]
    row = coordinator.locator("#conflicts tbody tr")
    assert [mentee["name"], ma["name"], "Supervisor"] == [
        row.locator("th, td").nth(i).inner_text() for i in range(3)
    ]
    card = coordinator.locator(".pair-card").filter(has_text=mentee["name"])
    assert mb["name"] in card.inner_text()
    assert "Mentee ranked mentor #2" in card.locator(".pair-ranks").inner_text()
    assert_accessible(coordinator)
    screenshot(coordinator, "coordinator", "pairing-conflict-honoured")
    coordinator.set_viewport_size(PHONE)
    coordinator.reload()
    coordinator.locator("#conflicts").wait_for()
    assert_accessible(coordinator)
    screenshot(coordinator, "coordinator", "pairing-conflict-honoured-phone")
