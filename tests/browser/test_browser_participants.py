"""A mentee and a mentor in Chromium: the pair with contact details, a meeting logged and
confirmed, a survey answered, and a private concern the coordinator reads and the mentor never
sees. Every page passes axe-core and is saved as a screenshot per role."""

from __future__ import annotations

import datetime as dt
import secrets

import pytest
from browsing import PHONE, assert_accessible, screenshot, sign_in
from live import publish_pairs, seed_program

from services.eventkit.auth import COORDINATOR, Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]


def _as(program, person: dict, role: str) -> Principal:
    grant = Grant(role, program.institution["id"], program.program["id"])
    return Principal(person["id"], (grant,), person["name"])


def _issue_a_survey(live, program, mentee: Principal) -> str:
    coordinator = Principal(
        program.coordinator["id"], (Grant(COORDINATOR, program.institution["id"]),)
    )
    template = live.ok(
        "feedback",
        "POST",
        f"/api/institutions/{program.institution['id']}/survey-templates",
        {
            "name": "First-month check-in",
            "items": [
                {"item_id": "helpful", "kind": "likert", "prompt": "How helpful is your mentor?"},
                {"item_id": "next", "kind": "text", "prompt": "What next?", "required": False},
            ],
        },
        principal=coordinator,
    )
    live.ok(
        "feedback",
        "POST",
        f"/api/cycles/{program.cycle_id}/survey-schedules",
        {"template_id": template["template_id"], "months": [0]},
        principal=coordinator,
    )

    def issued() -> list[dict]:
        live.ok("feedback", "POST", "/api/surveys/issue-due")
        return live.ok("feedback", "GET", "/api/me/surveys", principal=mentee)

    return wait_until(issued, timeout_s=60, interval_s=1)[0]["instance_id"]


def test_a_mentee_meets_answers_and_raises_a_concern_only_the_coordinator_sees(
    new_page, live_suite
):
    program = seed_program(live_suite, mentors=1, mentees=1)
    [pair] = publish_pairs(live_suite, program)
    mentee, mentor = program.mentees[0], program.mentors[0]
    as_mentee = _as(program, mentee, "mentee")
    wait_until(
        lambda: live_suite.ok("feedback", "GET", "/api/me/pairs", principal=as_mentee),
        timeout_s=60,
    )
    instance_id = _issue_a_survey(live_suite, program, as_mentee)
    secret = f"My mentor shared my exam results with others ({secrets.token_hex(4)})"

    page = new_page(PHONE)
    sign_in(page, mentee["email"])
    screenshot(page, "mentee", "home")

    # The pair, with the mentor's contact details.
    page.get_by_role("link", name="My pair").first.click()
    page.wait_for_url("**/me/pair")
    page.get_by_text(mentor["name"]).first.wait_for()
    assert mentor["email"] in page.content()
    assert_accessible(page)
    screenshot(page, "mentee", "pair")

    # A meeting in the future is refused inline; today's is logged (the pair began today).
    today = dt.datetime.now(dt.UTC).date()
    page.goto("/me/meetings")
    tomorrow = (today + dt.timedelta(days=2)).isoformat()
    page.get_by_label("Date").fill(tomorrow)
    page.get_by_role("button", name="Log meeting").click()
    page.locator(".field-error").first.wait_for()
    assert page.get_by_label("Date").get_attribute("aria-invalid") == "true"
    assert_accessible(page)
    screenshot(page, "mentee", "meeting-refused")
    page.get_by_label("Date").fill(today.isoformat())
    page.get_by_label("Topics (optional)").fill("research project")
    page.get_by_role("button", name="Log meeting").click()
    page.wait_for_load_state("networkidle")
    screenshot(page, "mentee", "meetings")

    def logged() -> list[dict]:
        return live_suite.ok(
            "feedback", "GET", f"/api/pairs/{pair['pair_id']}/meetings", principal=as_mentee
        )

    [meeting] = wait_until(logged, timeout_s=30)
    assert meeting["date"] == today.isoformat()

    # The survey.
    page.goto("/me/surveys")
    page.get_by_text("First-month check-in").first.wait_for()
    assert_accessible(page)
    screenshot(page, "mentee", "surveys")
    page.goto(f"/me/surveys/{instance_id}")
    page.get_by_role("group", name="How helpful is your mentor?").get_by_label("4").first.check()
    page.get_by_label("What next?").fill("More time in the research lab")
    assert_accessible(page)
    screenshot(page, "mentee", "survey")
    page.get_by_role("button", name="Send your answers").click()
    stored = wait_until(
        lambda: (
            live_suite.api(
                "feedback",
                "GET",
                f"/api/survey-instances/{instance_id}/responses/me",
                principal=as_mentee,
            ).ok
        ),
        timeout_s=30,
    )
    assert stored

    # A concern, raised privately.
    page.goto("/me/concern")
    page.get_by_label("What is it about?").select_option(index=1)
    page.get_by_label("What happened").fill(secret)
    assert_accessible(page)
    screenshot(page, "mentee", "concern")
    page.get_by_role("button", name="Send privately to the coordinators").click()
    page.get_by_text("sent privately").first.wait_for()
    assert secret not in page.content()

    # The mentor confirms the meeting and never sees the concern.
    mentor_page = new_page(PHONE)
    sign_in(mentor_page, mentor["email"])
    screenshot(mentor_page, "mentor", "home")
    mentor_page.goto("/me/meetings")
    mentor_page.get_by_role("button", name="Confirm").first.click()
    wait_until(lambda: logged()[0].get("confirmed_by"), timeout_s=30)
    assert_accessible(mentor_page)
    screenshot(mentor_page, "mentor", "meetings")
    mentor_page.goto("/me/pair")
    assert_accessible(mentor_page)
    screenshot(mentor_page, "mentor", "pair")
    assert secret not in mentor_page.content()
    refused = mentor_page.goto("/coordinator/concerns")
    assert refused is not None and refused.status == 403

    # The coordinator reads it in the concerns inbox.
    coordinator_page = new_page()
    sign_in(coordinator_page, program.coordinator["email"])
    coordinator_page.get_by_role("link", name="Concerns").first.click()
    coordinator_page.wait_for_url("**/coordinator/concerns**")
    inbox = coordinator_page.content()
    assert secret not in inbox  # the list never shows the text
    assert_accessible(coordinator_page)
    screenshot(coordinator_page, "coordinator", "concerns")
    coordinator_page.locator("a[href*='/coordinator/concerns/']").first.click()
    coordinator_page.get_by_text(secret).wait_for()
    assert_accessible(coordinator_page)
    screenshot(coordinator_page, "coordinator", "concern")
