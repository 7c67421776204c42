"""The coordinator's oversight pages against the running suite: program health, the concerns
inbox, survey templates and schedules, and the de-identified export."""

from __future__ import annotations

import csv
import io
import re

import pytest
from live import Program, seed_program
from live import publish_pairs as publish

from services.eventkit.auth import Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]

STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle=", re.IGNORECASE)


def _published(live, program: Program) -> list[dict]:
    """Publish stable pairs and wait until feedback has every active pair of the cycle."""
    pairs = publish(live, program)
    path = f"/api/cycles/{program.cycle_id}/health"

    def known() -> bool:
        response = live.api("feedback", "GET", path)
        if not response.ok:
            return False
        trends = response.json()["trends"]
        return bool(trends) and len(pairs) == _active_pairs(live, program, pairs)

    wait_until(known, timeout_s=60, interval_s=0.5)
    return pairs


def _active_pairs(live, program: Program, pairs: list[dict]) -> int:
    """Pairs feedback knows, counted by asking for each one's meetings as its mentee."""
    known = 0
    for pair in pairs:
        mentee = Principal(pair["mentee_id"], (Grant("mentee", program.institution["id"]),))
        response = live.api(
            "feedback", "GET", f"/api/pairs/{pair['pair_id']}/meetings", principal=mentee
        )
        known += response.ok
    return known


@pytest.fixture(scope="module")
def program(live_suite) -> Program:
    """Three mentors and four mentees, paired: enough people for numbers to be shown."""
    seeded = seed_program(live_suite, mentors=3, mentees=4)
    seeded.pairs = _published(live_suite, seeded)  # type: ignore[attr-defined]
    return seeded


@pytest.fixture(scope="module")
def small(live_suite) -> Program:
    """One pair at another institution: every aggregate describes too few people."""
    seeded = seed_program(live_suite, mentors=1, mentees=1)
    seeded.pairs = _published(live_suite, seeded)  # type: ignore[attr-defined]
    return seeded


def _people(program: Program) -> list[dict]:
    return [program.coordinator, *program.mentors, *program.mentees]


# --- program health -----------------------------------------------------------------------------


def test_health_shows_the_pairs_and_at_risk_section_with_charts_and_polling(live_suite, program):
    web = live_suite.browser_session(program.coordinator["email"])
    page = web.get(f"/coordinator/cycles/{program.cycle_id}/health")

    assert page.status_code == 200, page.text
    assert "<h1>Program health</h1>" in page.text
    assert program.cycle["name"] in page.text
    assert f'id="health-pairs">{len(program.pairs)}<' in page.text
    assert "Pairs at risk" in page.text
    assert "No pair has gone 30 days without a meeting." in page.text
    # Each mentor has at most two mentees: fewer than 5 people, so no numbers per mentor.
    assert "Too few to show" in page.text
    assert "describes fewer than 5 people" in page.text
    # The month's meetings as an SVG column with its numbers in a table.
    assert '<svg class="ov-chart"' in page.text
    assert 'class="ov-col"' in page.text
    assert "Meetings logged each month, in numbers" in page.text
    assert not STYLE_ATTRIBUTE.search(page.text)
    # The dashboard refreshes itself every 30 s, as an htmx fragment of the same route.
    assert 'hx-trigger="every 30s"' in page.text
    assert 'aria-live="polite"' in page.text

    fragment = web.get(
        f"/coordinator/cycles/{program.cycle_id}/health?inactive_days=10",
        headers={"HX-Request": "true"},
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="health-dashboard"')
    assert "<h1>" not in fragment.text
    assert "inactive_days=10" in fragment.text
    assert "No pair has gone 10 days without a meeting." in fragment.text


def test_health_of_a_small_cohort_says_too_few_to_show(live_suite, small):
    web = live_suite.browser_session(small.coordinator["email"])
    page = web.get(f"/coordinator/cycles/{small.cycle_id}/health")

    assert page.status_code == 200, page.text
    meetings = page.text.split('id="health-meetings"')[1].split("</section>")[0]
    assert "Too few to show" in meetings
    assert "describes fewer than 5 people" in meetings
    assert 'id="health-pairs"' not in page.text


def test_health_of_another_institutions_cycle_is_refused(live_suite, program, small):
    web = live_suite.browser_session(small.coordinator["email"])

    assert web.get(f"/coordinator/cycles/{program.cycle_id}/health").status_code == 403


# --- concerns -----------------------------------------------------------------------------------


def _concern_log(live, concern_id: str) -> list[dict]:
    return live.ok("feedback", "GET", f"/api/concerns/{concern_id}/access-log")


def test_a_raised_concern_reaches_the_inbox_without_its_text_and_is_handled(live_suite, program):
    pair = program.pairs[0]
    mentee = Principal(pair["mentee_id"], (Grant("mentee", program.institution["id"]),), "Mentee")
    secret = "My mentor has cancelled every meeting since we were paired."
    raised = live_suite.ok(
        "feedback",
        "POST",
        f"/api/pairs/{pair['pair_id']}/concerns",
        {"kind": "no_contact", "text": secret},
        principal=mentee,
    )
    concern_id = raised["concern_id"]
    web = live_suite.browser_session(program.coordinator["email"])

    inbox = web.get("/coordinator/concerns")
    assert inbox.status_code == 200, inbox.text
    assert f"/coordinator/concerns/{concern_id}" in inbox.text
    assert "New, not acknowledged" in inbox.text
    assert secret not in inbox.text
    assert _concern_log(live_suite, concern_id) == []  # listing is not reading

    opened = web.get(f"/coordinator/concerns/{concern_id}")
    assert opened.status_code == 200, opened.text
    assert secret in opened.text
    assert "No contact from the other member" in opened.text
    log = _concern_log(live_suite, concern_id)
    assert [(e["viewer_id"], e["viewer_role"]) for e in log] == [
        (program.coordinator["id"], "coordinator")
    ]
    assert program.coordinator["name"] in opened.text.split('id="access-heading"')[1]

    acknowledged = web.form(f"/coordinator/concerns/{concern_id}/acknowledge")
    assert acknowledged.status_code == 200, acknowledged.text
    assert "Concern acknowledged." in acknowledged.text
    coordinator = Principal(
        program.coordinator["id"], (Grant("coordinator", program.institution["id"]),)
    )
    listed = live_suite.ok("feedback", "GET", "/api/concerns", principal=coordinator)
    assert [c["status"] for c in listed if c["concern_id"] == concern_id] == ["acknowledged"]

    empty = web.form(f"/coordinator/concerns/{concern_id}/resolve", {"note": "  "})
    assert empty.status_code == 422
    assert "Say how the concern was resolved." in empty.text
    assert 'aria-invalid="true"' in empty.text

    resolved = web.form(
        f"/coordinator/concerns/{concern_id}/resolve",
        {"note": "Met both; agreed a fortnightly slot."},
    )
    assert resolved.status_code == 200
    assert "Concern resolved." in resolved.text
    assert "Met both; agreed a fortnightly slot." in resolved.text
    listed = live_suite.ok("feedback", "GET", "/api/concerns", principal=coordinator)
    assert [c["status"] for c in listed if c["concern_id"] == concern_id] == ["resolved"]


def test_concerns_are_closed_to_mentors_and_to_other_institutions(live_suite, program, small):
    pair = program.pairs[1]
    mentee = Principal(pair["mentee_id"], (Grant("mentee", program.institution["id"]),))
    raised = live_suite.ok(
        "feedback",
        "POST",
        f"/api/pairs/{pair['pair_id']}/concerns",
        {"kind": "other", "text": "Not for anyone else's eyes."},
        principal=mentee,
    )
    mentor = live_suite.browser_session(program.mentors[0]["email"])
    assert mentor.get("/coordinator/concerns").status_code == 403
    assert mentor.get(f"/coordinator/concerns/{raised['concern_id']}").status_code == 403

    stranger = live_suite.browser_session(small.coordinator["email"])
    inbox = stranger.get("/coordinator/concerns")
    assert inbox.status_code == 200
    assert raised["concern_id"] not in inbox.text
    refused = stranger.get(f"/coordinator/concerns/{raised['concern_id']}")
    assert refused.status_code == 404
    assert "This concern is not available to you" in refused.text
    assert "Not for anyone else's eyes." not in refused.text
    assert _concern_log(live_suite, raised["concern_id"]) == []


# --- surveys ------------------------------------------------------------------------------------


def _template_form(**fields: str) -> dict[str, str]:
    form = {"rows": "3", "action": "create", "name": "", "description": ""}
    form.update(fields)
    return form


def test_survey_templates_are_added_created_with_inline_errors_and_scheduled(live_suite, program):
    institution_id = program.institution["id"]
    web = live_suite.browser_session(program.coordinator["email"])
    page = web.get("/coordinator/surveys")
    assert page.status_code == 200, page.text
    assert program.institution["name"] in page.text
    assert "Issue due surveys now" not in page.text  # the consortium admin's button

    seeded = web.form(f"/coordinator/institutions/{institution_id}/survey-templates/builtins")
    assert seeded.status_code == 200
    assert "Semiannual review" in seeded.text
    assert "End-of-cycle evaluation" in seeded.text

    new = f"/coordinator/institutions/{institution_id}/survey-templates/new"
    assert web.get(new).status_code == 200
    more = web.form(new, _template_form(name="Draft", action="add_row"))
    assert more.status_code == 200
    assert re.search(r'name="q3-prompt"[^>]*data-focus', more.text)  # a fourth question
    assert 'value="Draft"' in more.text

    invalid = web.form(
        new,
        _template_form(
            name="Wellness check-in",
            **{"q0-kind": "choice", "q0-prompt": "How often do you meet?", "q0-choices": "Weekly"},
        ),
    )
    assert invalid.status_code == 422
    # The service's own message, next to the options of the first question.
    assert "A choice item has at least two options." in invalid.text
    choices = invalid.text.split('id="q0-choices-error"')[1].split("</textarea>")[0]
    assert 'aria-invalid="true"' in choices
    assert 'role="alert"' in invalid.text
    assert 'value="Wellness check-in"' in invalid.text  # what was typed is kept

    unnamed = web.form(new, _template_form(**{"q0-prompt": "I feel supported."}))
    assert unnamed.status_code == 422
    assert "Give the template a name." in unnamed.text

    created = web.form(
        new,
        _template_form(
            name="Wellness check-in",
            **{
                "q0-kind": "likert",
                "q0-prompt": "I feel supported by my mentor.",
                "q0-required": "1",
                "q1-kind": "choice",
                "q1-prompt": "How often do you meet?",
                "q1-choices": "Weekly\nMonthly\nRarely",
                "q1-required": "1",
                "q2-kind": "text",
                "q2-prompt": "Anything else?",
            },
        ),
    )
    assert created.status_code == 200, created.text
    assert "Survey template “Wellness check-in” created." in created.text
    templates = live_suite.ok(
        "feedback", "GET", f"/api/institutions/{institution_id}/survey-templates"
    )
    mine = [t for t in templates if t["name"] == "Wellness check-in"]
    assert len(mine) == 1
    items = mine[0]["items"]
    assert [(i["kind"], i["required"]) for i in items] == [
        ("likert", True),
        ("choice", True),
        ("text", False),
    ]
    assert items[1]["options"] == ["Weekly", "Monthly", "Rarely"]

    schedule = f"/coordinator/cycles/{program.cycle_id}/survey-schedules"
    wrong = web.form(schedule, {"template_id": mine[0]["template_id"], "months": "six"})
    assert wrong.status_code == 422
    assert "Give months as whole numbers, like 6, 12." in wrong.text

    scheduled = web.form(schedule, {"template_id": mine[0]["template_id"], "months": "0, 6"})
    assert scheduled.status_code == 200, scheduled.text
    assert "Survey scheduled." in scheduled.text
    assert "at months 0, 6 of the cycle" in scheduled.text

    # Month 0 is due today: once issued, health shows its response rate (7 people asked).
    live_suite.ok("feedback", "POST", "/api/surveys/issue-due", {})
    health = web.get(f"/coordinator/cycles/{program.cycle_id}/health")
    rates = health.text.split('id="health-rates-caption"')[1].split("</table>")[0]
    assert "Wellness check-in" in rates
    assert "0%" in rates
    assert "I feel supported by my mentor." in health.text


# --- the de-identified export -------------------------------------------------------------------


def test_the_export_downloads_de_identified_csv(live_suite, program):
    web = live_suite.browser_session(program.coordinator["email"])
    page = web.get(f"/coordinator/cycles/{program.cycle_id}/export")
    assert page.status_code == 200, page.text
    assert "HMAC" in page.text
    assert f'href="/coordinator/cycles/{program.cycle_id}/export.csv"' in page.text

    download = web.get(f"/coordinator/cycles/{program.cycle_id}/export.csv")
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    paired = {p for pair in program.pairs for p in (pair["mentor_id"], pair["mentee_id"])}
    assert len(rows) == 2 * len(program.pairs)  # each member of each pair
    assert len({r["participant"] for r in rows}) == len(paired)
    assert {r["role"] for r in rows} == {"mentor", "mentee"}
    for person in _people(program):
        assert person["name"] not in download.text
        assert person["email"] not in download.text
        assert person["id"] not in download.text
    assert "@" not in download.text


def test_the_export_of_a_small_cohort_has_no_rows_and_mentors_cannot_export(live_suite, small):
    web = live_suite.browser_session(small.coordinator["email"])
    page = web.get(f"/coordinator/cycles/{small.cycle_id}/export")
    assert page.status_code == 200
    assert "Too few to show" in page.text
    download = web.get(f"/coordinator/cycles/{small.cycle_id}/export.csv")
    assert download.status_code == 200
    assert download.text.strip().count("\n") == 0  # the heading row only

    mentor = live_suite.browser_session(small.mentors[0]["email"])
    assert mentor.get(f"/coordinator/cycles/{small.cycle_id}/export.csv").status_code == 403
