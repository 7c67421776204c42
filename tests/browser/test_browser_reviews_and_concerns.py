"""Reviews on demand and concerns with context, in Chromium against the live suite: a coordinator
issues a survey now to a cycle and reads its per-item results (suppressed until 5 people
answered) and downloads them de-identified; a mentee's concern names the pair and the mentor it is
about, which the coordinator sees and acts on, and the mentor never does; a mentee's rematch
request reaches the coordinator's concerns page with its reason. Every page passes axe-core and is
saved as phone and desktop screenshots."""

from __future__ import annotations

import csv
import io

import pytest
from browsing import DESKTOP, PHONE, assert_accessible, screenshot, sign_in
from live import publish_pairs, seed_program

from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]

ANSWERS = {"objectives": 4, "match": 5, "continue": "Yes", "change": "More evening sessions"}


def _as(program, person: dict, role: str) -> Principal:
    grant = Grant(role, program.institution["id"], program.program["id"])
    return Principal(person["id"], (grant,), person["name"])


def _shots(page, role: str, name: str) -> None:
    """The page as it is, checked by axe and saved on a desktop and on a phone."""
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        page.set_viewport_size(viewport)
        assert_accessible(page)
        screenshot(page, role, f"{name}-{suffix}")
    page.set_viewport_size(DESKTOP)


def _paired(live, program) -> list[dict]:
    pairs = publish_pairs(live, program)
    coordinator = Principal(
        program.coordinator["id"], (Grant(COORDINATOR, program.institution["id"]),)
    )
    path = f"/api/cycles/{program.cycle_id}/relationships"
    wait_until(lambda: len(live.ok("feedback", "GET", path, principal=coordinator)) == len(pairs))
    return pairs


def test_a_survey_issued_now_to_a_cycle_and_its_results_per_item(new_page, live_suite):
    program = seed_program(live_suite, mentors=3, mentees=4)
    pairs = _paired(live_suite, program)
    page = new_page()
    sign_in(page, program.coordinator["email"])
    page.goto("/coordinator/surveys")
    page.get_by_role("button", name="Add the ready-made templates").click()
    page.get_by_text("The ready-made templates are in place").first.wait_for()

    # A refused form says why, next to the field.
    page.goto(f"/coordinator/cycles/{program.cycle_id}/surveys")
    page.get_by_role("button", name="Send the survey now").click()
    page.get_by_text("Choose a template.").first.wait_for()
    assert page.get_by_label("Template").get_attribute("aria-invalid") == "true"
    _shots(page, "coordinator", "survey-now-refused")

    page.get_by_label("Template").select_option(label="End-of-cycle evaluation")
    page.get_by_label("Everyone in the cycle's pairs and groups").check()
    page.get_by_label("Days to answer").fill("10")
    page.get_by_role("button", name="Send the survey now").click()
    page.get_by_text("was sent to").first.wait_for()
    _shots(page, "coordinator", "survey-now-issued")

    people = {p["mentee_id"]: MENTEE for p in pairs} | {p["mentor_id"]: MENTOR for p in pairs}
    everyone = {x["id"]: x for x in (*program.mentors, *program.mentees)}
    [issued] = live_suite.ok(
        "feedback",
        "GET",
        f"/api/cycles/{program.cycle_id}/survey-instances",
        principal=Principal(
            program.coordinator["id"], (Grant(COORDINATOR, program.institution["id"]),)
        ),
    )
    assert issued["recipients"] == len(people) >= 6 and issued["audience"] == "cycle"

    # Each person it was issued to is told in their inbox, with a link to answer it.
    first_mentee = _as(program, everyone[pairs[0]["mentee_id"]], MENTEE)

    def told() -> list[dict]:
        found = live_suite.ok(
            "notifications",
            "GET",
            f"/api/people/{first_mentee.user_id}/notifications",
            principal=first_mentee,
        )
        return [n for n in found if n["kind"] == "survey_due"]

    wait_until(told, timeout_s=60)

    def answer(person_id: str, overall: int) -> None:
        who = _as(program, everyone[person_id], people[person_id])
        live_suite.ok(
            "feedback",
            "POST",
            f"/api/survey-instances/{issued['instance_id']}/responses",
            {"answers": {**ANSWERS, "overall": overall, "highlight": "The mock interviews"}},
            principal=who,
        )

    order = sorted(people)
    for n, person_id in enumerate(order[:4]):
        answer(person_id, 1 + n)
    page.goto(f"/coordinator/cycles/{program.cycle_id}/surveys")
    page.get_by_role("link", name="Results").first.click()
    page.get_by_role("heading", name="Results: End-of-cycle evaluation").wait_for()
    assert page.get_by_text("Too few to show").count() >= 6  # every question, under 5 answers
    assert "More evening sessions" not in page.content()
    _shots(page, "coordinator", "survey-results-suppressed")

    answer(order[4], 5)
    page.reload()
    overall = page.locator("[data-item=overall]")
    assert "5 answers" in overall.inner_text()
    assert overall.get_by_role("row", name="1. Strongly disagree").inner_text().count("1") >= 1
    assert "Yes" in page.locator("[data-item=continue]").inner_text()
    assert page.locator("[data-item=change] blockquote").count() == 5
    assert "5 of" in page.locator("#response-rate").inner_text()
    names = [x["name"] for x in everyone.values()]
    assert not any(name in page.content() for name in names)
    _shots(page, "coordinator", "survey-results")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the results (CSV)").click()
    text = download.value.path().read_text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"item_id": "overall", "answer": "5 Strongly agree", "count": "1"}.items() <= next(
        r for r in rows if r["item_id"] == "overall" and r["answer"].startswith("5")
    ).items()
    assert not any(x["name"] in text or person_id in text for person_id, x in everyone.items())


def test_a_concern_names_its_pair_and_person_for_the_coordinator_never_the_mentor(
    new_page, live_suite
):
    program = seed_program(live_suite, mentors=1, mentees=1)
    _paired(live_suite, program)
    mentee, mentor = program.mentees[0], program.mentors[0]
    secret = "He shouts at me in front of the ward team."

    page = new_page()
    sign_in(page, mentee["email"])
    page.goto("/me/concern")
    page.get_by_label("Who is it about?").select_option(label=f"{mentor['name']} (mentor)")
    page.get_by_label("What is it about?").select_option("boundary")
    page.get_by_label("What happened").fill(secret)
    _shots(page, "mentee", "concern-with-context")
    page.get_by_role("button", name="Send privately to the coordinators").click()
    page.get_by_text("sent privately").first.wait_for()

    coordinator = new_page()
    sign_in(coordinator, program.coordinator["email"])
    coordinator.goto("/coordinator/concerns")
    coordinator.get_by_role("link", name="Open").first.click()
    relationship = coordinator.locator("#concern-relationship").inner_text()
    assert (
        f"{mentor['name']} (mentor)" in relationship
        and f"{mentee['name']} (mentee)" in relationship
    )
    assert coordinator.locator("#concern-about").inner_text() == f"{mentor['name']} (mentor)"
    _shots(coordinator, "coordinator", "concern-context")

    # A note to file, refused empty, then recorded on the timeline.
    coordinator.get_by_role("button", name="Record the action").click()
    coordinator.get_by_text("Write the note to file.").first.wait_for()
    coordinator.get_by_label("Note, or why the pair ends").fill("Called the mentee; meeting both.")
    coordinator.get_by_role("button", name="Record the action").click()
    timeline = coordinator.locator("#timeline")
    timeline.get_by_text("Note to file").wait_for()
    assert "Called the mentee; meeting both." in timeline.inner_text()
    # Ending the pair goes through pairing and is on the timeline too.
    coordinator.get_by_label("End the pair", exact=True).check()
    coordinator.get_by_label("Note, or why the pair ends").fill("Not safe to continue.")
    coordinator.get_by_role("button", name="Record the action").click()
    coordinator.locator("#timeline").get_by_text("Pair ended", exact=True).wait_for()
    ended = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs")
    assert ended[0]["status"] == "ended" and "Not safe to continue." in ended[0]["ended_reason"]
    _shots(coordinator, "coordinator", "concern-timeline")

    # The mentor it is about: nothing of it anywhere on their pages.
    them = new_page()
    sign_in(them, mentor["email"])
    for path in ("/home", "/me/pair", "/me/inbox", "/me/meetings", "/coordinator/concerns"):
        them.goto(path)
        content = them.content()
        assert secret not in content and "Called the mentee" not in content, path
    response = them.goto(coordinator.url)
    assert response is not None and response.status in (403, 404)
    assert secret not in them.content()
    _shots(them, "mentor", "concern-not-shown")


def test_a_rematch_request_reaches_the_coordinator(new_page, live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1)
    _paired(live_suite, program)
    mentee, mentor = program.mentees[0], program.mentors[0]
    reason = "Our rotations never overlap."

    page = new_page()
    sign_in(page, mentee["email"])
    page.goto("/me/pair")
    page.get_by_label("Why you would like a new match").fill(reason)
    page.get_by_role("button", name="Ask for a new match").click()
    page.get_by_text("Your coordinators are asked for a new match").first.wait_for()

    coordinator = Principal(
        program.coordinator["id"], (Grant(COORDINATOR, program.institution["id"]),)
    )

    def told() -> list[dict]:
        found = live_suite.ok(
            "notifications",
            "GET",
            f"/api/people/{program.coordinator['id']}/notifications",
            principal=coordinator,
        )
        return [n for n in found if n["kind"] == "rematch_requested"]

    wait_until(told, timeout_s=60)

    staff = new_page()
    sign_in(staff, program.coordinator["email"])
    staff.goto("/coordinator/concerns")
    section = staff.locator("#rematch-requests")
    row = section.get_by_role("row").filter(has_text=reason)
    row.wait_for()
    assert f"{mentee['name']} (mentee)" in row.inner_text()
    _shots(staff, "coordinator", "rematch-requests")

    # The mentor is not shown who asked, or why.
    them = new_page()
    sign_in(them, mentor["email"])
    them.goto("/me/pair")
    assert reason not in them.content()
    _shots(them, "mentor", "pair-after-rematch-request")
