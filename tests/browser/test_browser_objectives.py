"""A student's objectives and action plan in Chromium: the student sets an objective on a phone
(a refused one first, explained inline) and plans its steps; the mentor comments and agrees it on
a desktop; the student marks a step done and logs a meeting that links the objective; the
coordinator's program health shows the cycle's progress (five mentees with objectives, so it is
not suppressed), and the coordinator plans a step on the student's behalf. Each page passes
axe-core and is saved, on a phone and on a desktop."""

from __future__ import annotations

import datetime as dt

import pytest
from browsing import DESKTOP, PHONE, assert_accessible, screenshot, sign_in
from live import publish_pairs, seed_program

from services.eventkit.auth import Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]

OBJECTIVE = "Complete two mock interviews by 30 June"
FIRST_STEP = "Book a mock interview with the program director"


def _as(program, person: dict, role: str) -> Principal:
    grant = Grant(role, program.institution["id"], program.program["id"])
    return Principal(person["id"], (grant,), person["name"])


def _seed_other_plans(live, program, pairs: list[dict], skip: str) -> None:
    """The other mentees' objectives (through the API), one step of each done."""
    for pair in pairs:
        if pair["mentee_id"] == skip:
            continue
        mentee = next(m for m in program.mentees if m["id"] == pair["mentee_id"])
        who = _as(program, mentee, "mentee")
        made = live.ok(
            "feedback", "POST", f"/api/pairs/{pair['pair_id']}/objectives",
            {"area": "research", "title": "Submit one abstract"}, principal=who,
        )  # fmt: skip
        steps = f"/api/objectives/{made['objective_id']}/steps"
        live.ok("feedback", "POST", steps, {"text": "Draft", "status": "done"}, principal=who)
        live.ok("feedback", "POST", steps, {"text": "Submit"}, principal=who)


def test_a_students_action_plan_is_reviewed_by_the_mentor_and_counted_in_health(
    new_page, live_suite
):
    program = seed_program(live_suite, mentors=3, mentees=5)
    pairs = publish_pairs(live_suite, program)
    student = program.mentees[0]
    [pair] = [p for p in pairs if p["mentee_id"] == student["id"]]
    mentor = next(m for m in program.mentors if m["id"] == pair["mentor_id"])
    for mentee in program.mentees:
        wait_until(
            lambda m=mentee: live_suite.ok(
                "feedback", "GET", "/api/me/pairs", principal=_as(program, m, "mentee")
            ),
            timeout_s=60,
        )

    # The student, on a phone: a statement left out is explained next to its field.
    page = new_page(PHONE)
    sign_in(page, student["email"])
    page.get_by_role("link", name="Objectives").first.click()
    page.wait_for_url("**/me/objectives")
    page.get_by_text("No objectives are recorded yet").wait_for()
    page.get_by_role("button", name="Add objective").click()
    error = page.locator(f"#new-{pair['pair_id']}-title-error")
    error.wait_for()
    page.get_by_role("alert").first.wait_for()
    assert_accessible(page)
    screenshot(page, "mentee", "objectives-refused")

    page.get_by_label("Area").select_option("interviews")
    page.get_by_label("Objective", exact=True).fill(OBJECTIVE)
    page.get_by_label("Target date (optional)").fill("2030-06-30")
    page.get_by_role("button", name="Add objective").click()
    page.get_by_text(f"The objective “{OBJECTIVE}” is recorded").wait_for()

    # Two steps of the action plan, each saved in place (htmx) with its due date.
    page.get_by_label("New step").fill(FIRST_STEP)
    page.get_by_label("Due date (optional)").fill("2030-04-15")
    page.get_by_role("button", name="Add step").click()
    page.get_by_role("status").filter(has_text="The action plan is saved.").wait_for()
    assert page.get_by_label("New step").evaluate("e => e.value") == ""
    page.get_by_label("New step").fill("Record the second interview and review it")
    page.get_by_role("button", name="Add step").click()
    page.get_by_text("Record the second interview and review it").first.wait_for()
    page.get_by_text("Not agreed yet").wait_for()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    assert_accessible(page)
    screenshot(page, "mentee", "objectives-phone")

    # The mentor, on a desktop: an empty comment is refused in place, then a comment, then agreed.
    desk = new_page(DESKTOP)
    sign_in(desk, mentor["email"])
    desk.goto("/me/objectives")
    desk.get_by_text(f"{student['name']}'s objectives").wait_for()
    desk.get_by_role("button", name="Add comment").click()
    desk.get_by_role("alert").first.wait_for()
    desk.get_by_label("Comment").fill("Ask Dr Lee for the second one: she runs them on Fridays.")
    desk.get_by_role("button", name="Add comment").click()
    desk.get_by_role("status").filter(has_text="Your comment is added.").wait_for()
    desk.get_by_role("button", name="Agree this objective").click()
    desk.get_by_role("status").filter(has_text="You agreed this objective.").wait_for()
    assert desk.get_by_text("Agreed by You").count() == 1
    assert_accessible(desk)
    screenshot(desk, "mentor", "objectives-agreed")

    # The student marks the first step done; the timeline shows the whole review.
    page.goto("/me/objectives")
    page.get_by_label(f"Status of “{FIRST_STEP}”").select_option("done")
    page.get_by_role("button", name=f"Save status of {FIRST_STEP}").click()
    page.get_by_role("status").filter(has_text="The action plan is saved.").wait_for()
    timeline = page.locator(".objective-timeline").inner_text()
    assert "agreed the objective" in timeline and "Ask Dr Lee" in timeline
    assert f"{FIRST_STEP}: done" in timeline
    [objective] = live_suite.ok(
        "feedback", "GET", f"/api/pairs/{pair['pair_id']}/objectives",
        principal=_as(program, student, "mentee"),
    )  # fmt: skip
    assert [s["status"] for s in objective["steps"]] == ["done", "not_started"]
    assert objective["agreed_by"] == mentor["id"]

    # The meeting where they reviewed it links the objective.
    page.get_by_role("link", name="Meetings").first.click()
    page.wait_for_url("**/me/meetings")
    page.get_by_label("Date").fill(dt.date.today().isoformat())
    page.get_by_label(OBJECTIVE).check()
    page.get_by_role("button", name="Log meeting").click()
    page.get_by_text("Objectives discussed:").wait_for()
    assert page.get_by_role("link", name=OBJECTIVE).count() == 1
    assert_accessible(page)
    screenshot(page, "mentee", "meeting-with-objective")
    [meeting] = live_suite.ok(
        "feedback", "GET", f"/api/pairs/{pair['pair_id']}/meetings",
        principal=_as(program, student, "mentee"),
    )  # fmt: skip
    assert meeting["objective_ids"] == [objective["objective_id"]]

    # Program health: objectives by status and area, and the share of steps done.
    _seed_other_plans(live_suite, program, pairs, skip=student["id"])
    coord = new_page(DESKTOP)
    sign_in(coord, program.coordinator["email"])
    coord.goto(f"/coordinator/cycles/{program.cycle_id}/health")
    section = coord.locator("section[aria-labelledby=health-objectives]")
    section.get_by_text("Objectives by area").wait_for()
    text = section.inner_text()
    assert "5 objectives set by 5 mentees" in text
    assert "10 steps planned, 50% of them done" in text
    assert "Interviews" in text and "Research" in text
    assert_accessible(coord)
    screenshot(coord, "coordinator", "health-objectives")
    coord.set_viewport_size(PHONE)
    screenshot(coord, "coordinator", "health-objectives-phone")

    # The coordinator plans a step on the student's behalf from the published pairs.
    coord.set_viewport_size(DESKTOP)
    coord.goto(f"/coordinator/cycles/{program.cycle_id}/pairing")
    coord.get_by_role("link", name=f"Objectives of {student['name']}").click()
    coord.wait_for_url(f"**/coordinator/pairs/{pair['pair_id']}/objectives")
    coord.get_by_text(f"{student['name']}'s objectives").wait_for()
    assert coord.get_by_role("button", name="Agree this objective").count() == 0
    coord.get_by_label("New step").fill("Confirm the interview room with the program office")
    coord.get_by_role("button", name="Add step").click()
    coord.get_by_role("status").filter(has_text="The action plan is saved.").wait_for()
    assert "You planned a step" in coord.locator(".objective-timeline").inner_text()
    assert_accessible(coord)
    screenshot(coord, "coordinator", "objectives-on-behalf")
    [planned] = live_suite.ok(
        "feedback", "GET", f"/api/pairs/{pair['pair_id']}/objectives",
        principal=_as(program, student, "mentee"),
    )  # fmt: skip
    assert len(planned["steps"]) == 3
    assert planned["history"][-1]["changed_by"] == program.coordinator["id"]
