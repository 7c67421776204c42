"""The coordinator's program pages against the running suite: programs and cycles, roster import,
participants with active search, and who may not see them."""

from __future__ import annotations

import csv
import io
import re
import secrets

import pytest
from live import Program, seed_program

pytestmark = [pytest.mark.kafka]


def _seed(live_suite) -> Program:
    # Pairing plays no part in these pages, so there is no need to wait for it.
    return seed_program(live_suite, mentors=2, mentees=2, wait_for_pairing=False)


def _enrollments(live_suite, cycle_id: str) -> list[dict]:
    return live_suite.ok("enrollment", "GET", f"/api/cycles/{cycle_id}/enrollments")


def _upload(web, cycle_id: str, body: bytes, **kwargs):
    path = f"/coordinator/cycles/{cycle_id}/roster"
    page = web.get(path)
    assert page.status_code == 200, page.text
    return web.post(
        path,
        data={"csrf_token": web.csrf},
        files={"file": ("roster.csv", body, "text/csv")},
        **kwargs,
    )


HIDDEN_RE = re.compile(r'name="(file_sha256|plan|filename)" value="([^"]*)"')


def _confirm(web, cycle_id: str, preview_html: str, **kwargs):
    """Confirm the previewed roster, as its form does."""
    fields = dict(HIDDEN_RE.findall(preview_html))
    assert set(fields) == {"file_sha256", "plan", "filename"}, preview_html[:2000]
    return web.post(
        f"/coordinator/cycles/{cycle_id}/roster/confirm",
        data={"csrf_token": web.csrf, **fields},
        **kwargs,
    )


def _problem_rows(html: str) -> dict[str, list[tuple[str, str]]]:
    """The refused roster's problem table: line -> [(column, problem)]."""
    found: dict[str, list[tuple[str, str]]] = {}
    for line, column, problem in re.findall(
        r'<th scope="row">(\d+)</th>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>', html
    ):
        found.setdefault(line, []).append((column, problem))
    return found


def test_the_coordinator_sees_their_programs_and_cycles_and_no_one_elses(live_suite):
    program = _seed(live_suite)
    other = _seed(live_suite)
    web = live_suite.browser_session(program.coordinator["email"])

    page = web.get("/coordinator/programs")

    assert page.status_code == 200
    assert program.institution["name"] in page.text
    assert program.program["name"] in page.text
    assert f'href="/coordinator/cycles/{program.cycle_id}"' in page.text
    assert other.institution["name"] not in page.text
    assert other.cycle_id not in page.text

    overview = web.get(f"/coordinator/cycles/{program.cycle_id}")
    assert overview.status_code == 200
    assert "<h1>Cycle 2026-27" in overview.text
    assert re.search(r"<dt>Active mentors</dt><dd>2</dd>", overview.text)
    assert re.search(r"<dt>Active mentees</dt><dd>2</dd>", overview.text)
    assert re.search(r"<dt>Mentee places offered</dt><dd>4</dd>", overview.text)
    assert f'href="/coordinator/cycles/{program.cycle_id}/roster"' in overview.text
    assert f'href="/coordinator/participants?cycle={program.cycle_id}"' in overview.text


def test_the_coordinator_creates_a_program_and_opens_closes_and_reopens_a_cycle(live_suite):
    program = _seed(live_suite)
    institution_id = program.institution["id"]
    web = live_suite.browser_session(program.coordinator["email"])
    web.get("/coordinator/programs")

    refused = web.form(
        "/coordinator/programs",
        {"institution_id": institution_id, "name": "", "program_type": "student_career_coaching"},
    )
    assert refused.status_code == 422
    assert "Enter the program&#39;s name." in refused.text
    assert 'id="program-name" name="name" type="text" value="" aria-describedby=' in refused.text
    assert 'role="alert"' in refused.text

    created = web.form(
        "/coordinator/programs",
        {
            "institution_id": institution_id,
            "name": "Final-year career coaching",
            "program_type": "student_career_coaching",
            "guidelines": "Groups of five. About two hours a meeting.",
        },
        allow_redirects=False,
    )
    assert created.status_code == 302, created.text
    programs = live_suite.ok("enrollment", "GET", f"/api/institutions/{institution_id}/programs")
    coaching = next(p for p in programs if p["name"] == "Final-year career coaching")
    assert coaching["program_type"] == "student_career_coaching"
    listing = web.get("/coordinator/programs")
    assert "Final-year career coaching" in listing.text
    assert "Groups of five. About two hours a meeting." in listing.text

    # The service's own rule comes back inline: group coaching needs a group size.
    cycle_path = f"/coordinator/programs/{coaching['id']}/cycles"
    no_size = web.form(cycle_path, {"name": "2026", "pairing_format": "group"})
    assert no_size.status_code == 422
    assert "Group coaching needs a group size from 2 to 12." in no_size.text
    assert f'id="cycle-{coaching["id"]}-group-size-error"' in no_size.text
    assert 'value="2026"' in no_size.text  # what was typed is kept
    bad_months = web.form(
        cycle_path, {"name": "2026", "pairing_format": "group", "review_months": "six"}
    )
    assert bad_months.status_code == 422
    assert "Enter whole months separated by commas" in bad_months.text

    opened = web.form(
        cycle_path,
        {
            "name": "2026",
            "pairing_format": "group",
            "group_size": "5",
            "meeting_expectations": "Every two weeks during application season",
            "review_months": "3, 6",
            "cross_institution": "on",
        },
        allow_redirects=False,
    )
    assert opened.status_code == 302, opened.text
    cycle_id = opened.headers["Location"].rstrip("/").split("/")[-1]
    cycle = live_suite.ok("enrollment", "GET", f"/api/cycles/{cycle_id}")
    assert cycle["program_id"] == coaching["id"]
    assert (cycle["pairing_format"], cycle["group_size"]) == ("group", 5)
    assert cycle["review_months"] == [3, 6]
    assert cycle["cross_institution"] is True
    overview = web.get(f"/coordinator/cycles/{cycle_id}")
    assert "Group coaching, groups of 5" in overview.text
    assert "Month 3, 6 of the cycle" in overview.text

    closed = web.form(f"/coordinator/cycles/{cycle_id}/close", {"next": "/coordinator/programs"})
    assert closed.status_code == 200
    assert "is closed" in closed.text
    assert live_suite.ok("enrollment", "GET", f"/api/cycles/{cycle_id}")["is_open"] is False
    web.form(f"/coordinator/cycles/{cycle_id}/reopen")
    assert live_suite.ok("enrollment", "GET", f"/api/cycles/{cycle_id}")["is_open"] is True


def test_a_roster_with_bad_rows_lists_each_inline_and_imports_no_one(live_suite):
    program = _seed(live_suite)
    web = live_suite.browser_session(program.coordinator["email"])
    tag = secrets.token_hex(3)
    body = (
        "name,email,role,training_level,capacity\n"
        f"Good Person,good.{tag}@riverside.example,mentee,PGY1,\n"
        f"Bad Email,not-an-email,mentee,PGY1,\n"
        f"No Capacity,nocap.{tag}@riverside.example,mentor,PGY9,\n"
    ).encode()

    page = _upload(web, program.cycle_id, body)

    assert page.status_code == 422
    assert "Nothing was imported" in page.text
    problems = _problem_rows(page.text)
    assert set(problems) == {"3", "4"}
    assert problems["3"] == [
        (
            "email",
            "Email must be a valid address such as name@hospital.org (found &#39;not-an-email&#39;).",
        )
    ]
    columns = {column for column, _ in problems["4"]}
    assert columns == {"training_level", "capacity"}
    assert any("Capacity is required for mentors" in text for _, text in problems["4"])
    assert len(_enrollments(live_suite, program.cycle_id)) == 4  # the seeded four, no one else

    # htmx swaps only the upload area: the form and its result, still with 422.
    swapped = _upload(web, program.cycle_id, body, headers={"HX-Request": "true"})
    assert swapped.status_code == 422
    assert "<html" not in swapped.text
    assert 'hx-encoding="multipart/form-data"' in swapped.text
    assert set(_problem_rows(swapped.text)) == {"3", "4"}

    no_file = web.post(
        f"/coordinator/cycles/{program.cycle_id}/roster", data={"csrf_token": web.csrf}
    )
    assert no_file.status_code == 422
    assert "Choose the roster&#39;s CSV file to upload." in no_file.text
    assert 'aria-invalid="true"' in no_file.text


def test_a_valid_roster_imports_and_the_new_people_appear_in_participants(live_suite):
    program = _seed(live_suite)
    web = live_suite.browser_session(program.coordinator["email"])
    tag = secrets.token_hex(3)
    body = (
        "Name;E-mail;Role;Training level;Interests;Capacity\n"
        f"Priya Quartermain;priya.{tag}@riverside.example;mentor;PGY5;trauma|research;3\n"
        f"Tomas Underwood;tomas.{tag}@riverside.example;mentee;PGY1;wellness;\n"
    ).encode()

    preview = _upload(web, program.cycle_id, body)
    assert preview.status_code == 200, preview.text
    assert "Nothing has changed yet" in preview.text
    assert re.search(r"<dt>New people</dt><dd>2</dd>", preview.text)
    assert len(_enrollments(live_suite, program.cycle_id)) == 4  # nothing applied yet
    imported = _confirm(web, program.cycle_id, preview.text, allow_redirects=False)
    assert imported.status_code == 302, imported.text
    summary = web.get(imported.headers["Location"])
    assert "Roster imported from roster.csv." in summary.text
    assert re.search(r"<dt>New people</dt><dd>2</dd>", summary.text)
    assert re.search(r"<dt>Newly enrolled</dt><dd>2</dd>", summary.text)
    # The summary is shown once, not on every later visit.
    assert "Roster imported" not in web.get(imported.headers["Location"]).text

    # With htmx the upload area alone comes back, after the same redirect.
    shown = _upload(web, program.cycle_id, body, headers={"HX-Request": "true"})
    assert re.search(r"<dt>Unchanged</dt><dd>2</dd>", shown.text)
    again = _confirm(web, program.cycle_id, shown.text, headers={"HX-Request": "true"})
    assert again.status_code == 200
    assert "<html" not in again.text
    assert re.search(r"<dt>Unchanged</dt><dd>2</dd>", again.text)
    assert re.search(r"<dt>Newly enrolled</dt><dd>0</dd>", again.text)

    listing = web.get(f"/coordinator/participants?cycle={program.cycle_id}")
    assert listing.status_code == 200
    assert "Priya Quartermain" in listing.text
    assert "Tomas Underwood" in listing.text
    assert "6 participants." in listing.text
    # Each name links to the participant's own page.
    row = re.search(
        r'href="/coordinator/enrollments/[^"]+">Priya Quartermain</a></th>(.*?)</tr>',
        listing.text,
        re.S,
    )
    assert row is not None
    assert "PGY5" in row.group(1) and "trauma, research" in row.group(1)
    assert "<td>3</td>" in row.group(1)
    assert len(_enrollments(live_suite, program.cycle_id)) == 6


def test_the_template_csv_has_every_column_and_imports_as_is(live_suite):
    program = _seed(live_suite)
    web = live_suite.browser_session(program.coordinator["email"])

    template = web.get("/coordinator/roster-template.csv")

    assert template.status_code == 200
    assert template.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in template.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(template.text)))
    assert rows[0][:4] == ["name", "email", "role", "training_level"]
    assert "capacity" in rows[0]
    preview = _upload(web, program.cycle_id, template.content)
    assert preview.status_code == 200, preview.text
    imported = _confirm(web, program.cycle_id, preview.text)
    assert imported.status_code == 200, imported.text
    assert re.search(r"<dt>Rows read</dt><dd>2</dd>", imported.text)


def test_active_search_by_name_and_filters_return_only_matches(live_suite):
    program = _seed(live_suite)
    web = live_suite.browser_session(program.coordinator["email"])
    base = f"/coordinator/participants?cycle={program.cycle_id}"

    page = web.get(base + "&q=mentor+a")
    assert page.status_code == 200
    assert "Mentor A Example" in page.text
    assert "Mentor B Example" not in page.text
    assert "Mentee A Example" not in page.text
    assert "1 participant matching “mentor a”." in page.text
    assert 'hx-trigger="input changed delay:300ms, search"' in page.text
    assert 'hx-target="#participant-results"' in page.text
    assert 'aria-live="polite"' in page.text

    fragment = web.get(base + "&q=mentee", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert "<h1" not in fragment.text
    assert "Mentee A Example" in fragment.text and "Mentee B Example" in fragment.text
    assert "Mentor A Example" not in fragment.text
    assert 'hx-swap-oob="innerHTML:#participant-count">2 participants matching “mentee”.' in (
        fragment.text
    )

    mentors = web.get(base + "&role=mentor", headers={"HX-Request": "true"})
    assert "Mentor A Example" in mentors.text and "Mentor B Example" in mentors.text
    assert "Mentee" not in re.sub(r"<option[^>]*>[^<]*</option>", "", mentors.text)

    nobody = web.get(base + "&q=zzz-no-such-name")
    assert "No participants matching “zzz-no-such-name”." in nobody.text
    assert "<table" not in nobody.text.split('id="participant-results"')[1]


def test_withdrawing_and_reenrolling_a_participant(live_suite):
    program = _seed(live_suite)
    web = live_suite.browser_session(program.coordinator["email"])
    mentee = next(
        e for e in _enrollments(live_suite, program.cycle_id) if e["name"] == "Mentee B Example"
    )
    page = web.get(f"/coordinator/participants?cycle={program.cycle_id}")
    assert f'action="/coordinator/enrollments/{mentee["id"]}/withdraw"' in page.text
    assert 'data-confirm="Withdraw Mentee B Example from 2026-27?"' in page.text

    back_to = f"/coordinator/participants?cycle={program.cycle_id}&status=withdrawn"
    withdrawn = web.form(
        f"/coordinator/enrollments/{mentee['id']}/withdraw",
        {"reason": "Left the program", "next": back_to},
    )

    assert withdrawn.status_code == 200
    assert withdrawn.url.endswith(back_to)
    assert "Mentee B Example is withdrawn from the cycle." in withdrawn.text
    assert "Left the program" in withdrawn.text
    assert "1 participant." in withdrawn.text
    record = live_suite.ok("enrollment", "GET", f"/api/enrollments/{mentee['id']}")
    assert (record["status"], record["withdrawal_reason"]) == ("withdrawn", "Left the program")

    web.form(f"/coordinator/enrollments/{mentee['id']}/reenroll", {"next": back_to})
    record = live_suite.ok("enrollment", "GET", f"/api/enrollments/{mentee['id']}")
    assert record["status"] == "active"


def test_without_a_cycle_the_coordinator_picks_one_of_their_open_cycles(live_suite):
    program = _seed(live_suite)
    other = _seed(live_suite)
    web = live_suite.browser_session(program.coordinator["email"])

    page = web.get("/coordinator/participants")

    assert page.status_code == 200
    assert f'<option value="{program.cycle_id}">' in page.text
    assert other.cycle_id not in page.text
    assert 'method="get"' in page.text


def test_a_coordinator_of_another_institution_is_refused(live_suite):
    program = _seed(live_suite)
    other = _seed(live_suite)
    web = live_suite.browser_session(other.coordinator["email"])
    cycle_id = program.cycle_id

    for path in (
        f"/coordinator/cycles/{cycle_id}",
        f"/coordinator/cycles/{cycle_id}/roster",
        f"/coordinator/participants?cycle={cycle_id}",
    ):
        assert web.get(path).status_code in (403, 404), path
    web.get("/coordinator/programs")
    assert web.form(f"/coordinator/cycles/{cycle_id}/close").status_code in (403, 404)
    assert web.form(
        f"/coordinator/programs/{program.program['id']}/cycles",
        {"name": "Sneaky", "pairing_format": "one_to_one"},
    ).status_code in (403, 404)
    mentee_id = _enrollments(live_suite, cycle_id)[0]["id"]
    assert web.form(f"/coordinator/enrollments/{mentee_id}/withdraw").status_code in (403, 404)
    assert live_suite.ok("enrollment", "GET", f"/api/cycles/{cycle_id}")["is_open"] is True
    assert all(e["status"] == "active" for e in _enrollments(live_suite, cycle_id))


def test_a_mentee_cannot_reach_the_coordinator_pages(live_suite):
    program = _seed(live_suite)
    web = live_suite.browser_session(program.mentees[0]["email"])

    for path in (
        "/coordinator/programs",
        f"/coordinator/cycles/{program.cycle_id}",
        f"/coordinator/cycles/{program.cycle_id}/roster",
        f"/coordinator/participants?cycle={program.cycle_id}",
        "/coordinator/participants",
    ):
        assert web.get(path).status_code == 403, path
    assert "Programs and cycles" not in web.get("/home").text
