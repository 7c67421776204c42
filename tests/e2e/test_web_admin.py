"""The consortium admin's pages and the audit trail, against the running suite: institutions,
coordinators, consortium-wide outcomes, and the audit pages of coordinators and the admin."""

from __future__ import annotations

import html
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from live import PASSWORD, LiveSuite, Program, WebSession, publish_pairs, seed_admin, seed_program

from services.eventkit.auth import COORDINATOR, Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]

STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle=", re.IGNORECASE)
TIME_CELL = re.compile(r'<td(?: data-focus)?><time datetime="([^"]+)"')
ROW_SERVICE = re.compile(r"</th>\s*<td>(Enrollment|Pairing|Feedback|Notifications)</td>")


@pytest.fixture(scope="module")
def admin(live_suite: LiveSuite) -> dict:
    return seed_admin(live_suite)


@pytest.fixture(scope="module")
def paired(live_suite: LiveSuite) -> Program:
    """Three mentors and four mentees, paired: events in every service."""
    program = seed_program(live_suite, mentors=3, mentees=4)
    program.pairs = publish_pairs(live_suite, program)  # type: ignore[attr-defined]
    return program


@pytest.fixture(scope="module")
def small(live_suite: LiveSuite) -> Program:
    """Another institution with one mentor and one mentee."""
    return seed_program(live_suite, mentors=1, mentees=1)


def _session(live_suite: LiveSuite, email: str) -> WebSession:
    return live_suite.browser_session(email)


def _text(page) -> str:
    return html.unescape(page.text)


def test_the_admin_adds_an_institution_and_appoints_its_coordinator(live_suite, admin, small):
    web = _session(live_suite, admin["email"])
    page = web.get("/admin/institutions")
    assert page.status_code == 200
    assert "Add an institution" in page.text and small.institution["name"] in _text(page)
    assert not STYLE_ATTRIBUTE.search(page.text)

    tag = secrets.token_hex(3)
    good = {"name": f"Lakeside Medical School {tag}", "time_zone": "America/Chicago"}
    too_long = web.form("/admin/institutions", {**good, "short_code": "X" * 21})
    assert too_long.status_code == 422
    assert 'id="institution-code-error"' in too_long.text
    assert re.search(r'id="institution-code"[^>]*aria-invalid="true"', too_long.text)
    assert 'role="alert"' in too_long.text
    assert f'value="{good["name"]}"' in _text(too_long)  # what was typed is kept

    taken = web.form("/admin/institutions", {**good, "short_code": small.institution["short_code"]})
    assert taken.status_code == 422
    assert "Another institution uses this short code." in _text(taken)
    assert 'id="institution-code-error"' in taken.text

    no_zone = web.form("/admin/institutions", {**good, "short_code": f"L{tag}", "time_zone": ""})
    assert no_zone.status_code == 422 and 'id="institution-zone-error"' in no_zone.text

    added = web.form(
        "/admin/institutions", {**good, "short_code": f"l{tag}"}, allow_redirects=False
    )
    assert added.status_code == 302, added.text
    institution_id = parse_qs(urlsplit(added.headers["Location"]).query)["institution"][0]
    landing = web.get(added.headers["Location"])
    assert f"{good['name']} (L{tag.upper()}) added." in _text(landing)
    assert f'<option value="{institution_id}" selected>' in landing.text
    listed = web.get("/admin/institutions")
    assert good["name"] in _text(listed) and f"L{tag.upper()}" in listed.text

    # Appoint someone not in Tandem yet: the name is asked for first.
    email = f"chief.{tag}@lakeside.example"
    grant = {"institution_id": institution_id, "email": email, "training_level": "PGY5"}
    unnamed = web.form("/admin/coordinators", grant)
    assert unnamed.status_code == 422
    assert "has this email yet" in _text(unnamed) and 'id="grant-name-error"' in unnamed.text
    bad_email = web.form("/admin/coordinators", {**grant, "email": "not-an-email"})
    assert bad_email.status_code == 422 and 'id="grant-email-error"' in bad_email.text

    appointed = web.form(
        "/admin/coordinators", {**grant, "name": "Chief Resident"}, allow_redirects=False
    )
    assert appointed.status_code == 302, appointed.text
    coordinators = web.get(appointed.headers["Location"])
    assert "Chief Resident now coordinates" in _text(coordinators)
    assert "They were emailed a link to set their password." in _text(coordinators)
    section = coordinators.text.split(f'id="institution-{institution_id}"')[1].split("</section>")[
        0
    ]
    assert "Chief Resident" in section and email in section

    # The new coordinator sets a password from the link they were emailed, and signs in.
    [mail] = wait_until(lambda: live_suite.smtp.mailbox.to(email), timeout_s=60)
    assert mail["Subject"] == "Set your Tandem password"
    [link] = re.findall(r"http://\S+/password/reset/\S+", mail.get_body(("plain",)).get_content())
    path = urlsplit(link).path
    newcomer = WebSession(live_suite.url)
    assert newcomer.get(path).status_code == 200
    chosen = newcomer.form(path, {"password": PASSWORD, "confirm": PASSWORD}, allow_redirects=False)
    assert chosen.status_code == 302, chosen.text
    coordinator = _session(live_suite, email)
    home = coordinator.get("/home")
    assert home.status_code == 200
    assert "Coordinator" in home.text and good["name"] in _text(home)

    # Appointing the same person again changes nothing and sends no second link.
    again = web.form("/admin/coordinators", grant, allow_redirects=False)
    assert again.status_code == 302
    flashed = _text(web.get(again.headers["Location"]))
    assert "Chief Resident now coordinates" in flashed
    assert "They were emailed a link" not in flashed

    person_id = re.search(r'action="/admin/coordinators/([^/"]+)/revoke"', section).group(1)
    removed = web.form(
        f"/admin/coordinators/{person_id}/revoke",
        {"institution_id": institution_id, "program_id": "", "name": "Chief Resident"},
    )
    assert removed.status_code == 200 and "Chief Resident no longer coordinates" in _text(removed)
    section = removed.text.split(f'id="institution-{institution_id}"')[1].split("</section>")[0]
    assert "No coordinator yet." in section


def test_a_coordinator_is_refused_every_admin_page(live_suite, small):
    web = _session(live_suite, small.coordinator["email"])
    for path in ("/admin/institutions", "/admin/coordinators", "/admin/outcomes", "/admin/audit"):
        assert web.get(path).status_code == 403, path
    refused = web.form(
        "/admin/institutions", {"name": "Sneaky", "short_code": "SNK", "time_zone": "UTC"}
    )
    assert refused.status_code == 403


def _events(page) -> list[str]:
    return re.findall(r'<th scope="row">(\w+)</th>', page.text)


def _rows(page) -> str:
    """The entries' rows only (the filters list every institution and event type)."""
    return page.text.split('id="audit-rows"')[-1] if 'id="audit-rows"' in page.text else ""


def test_a_coordinator_audits_their_own_institution_only(live_suite, paired, small):
    coordinator = paired.coordinator
    # Something the coordinator did themself, so the trail names them.
    as_coordinator = Principal(
        coordinator["id"], (Grant(COORDINATOR, paired.institution["id"]),), coordinator["name"]
    )
    live_suite.ok(
        "enrollment",
        "PATCH",
        f"/api/people/{coordinator['id']}",
        {"specialty": "Trauma Surgery"},
        principal=as_coordinator,
    )
    web = _session(live_suite, coordinator["email"])
    # The trail is a projection: the worker brings each service's events in shortly.
    page = wait_until(
        lambda: (p := web.get("/coordinator/audit")) and "PersonUpdated" in _events(p) and p
    )
    assert page.status_code == 200
    assert not STYLE_ATTRIBUTE.search(page.text)
    assert "Cora Ordinator" in _text(page)
    assert f'href="/coordinator/audit?actor={coordinator["id"]}"' in page.text

    enrolled = wait_until(
        lambda: (
            (p := web.get("/coordinator/audit?event_type=ParticipantEnrolled"))
            and len(_events(p)) == len(paired.mentors) + len(paired.mentees)
            and p
        )
    )
    assert set(_events(enrolled)) == {"ParticipantEnrolled"}
    registered = web.get("/coordinator/audit?event_type=PersonRegistered")
    assert set(_events(registered)) == {"PersonRegistered"}
    own = [coordinator, *paired.mentors, *paired.mentees]
    assert all(p["id"][:8] in _rows(registered) for p in own)
    others = [small.coordinator, *small.mentors, *small.mentees]
    assert not any(p["id"][:8] in _rows(registered) for p in others)

    by_them = web.get(f"/coordinator/audit?actor={coordinator['id']}")
    assert "PersonUpdated" in _events(by_them)
    assert set(_events(by_them)) <= {"PersonUpdated", "AccessRecorded", "RecordsExported"}
    assert "Showing only what Cora Ordinator did." in _text(by_them)
    # Their own sign-in, recorded by the web through enrollment.
    signed_in = wait_until(
        lambda: (
            (p := web.get(f"/coordinator/audit?actor={coordinator['id']}"))
            and "sign_in" in _rows(p)
            and p
        )
    )
    assert "AccessRecorded" in _events(signed_in)
    pairing = web.get("/coordinator/audit?service=pairing")
    assert set(ROW_SERVICE.findall(pairing.text)) == {"Pairing"}

    assert web.get(f"/coordinator/audit?institution={small.institution['id']}").status_code == 403

    checked = web.get("/coordinator/audit?verify=1")
    assert checked.status_code == 200 and _text(checked).count("chain intact") == 4
    fragment = web.get("/coordinator/audit?verify=1", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and fragment.text.count("Verified") == 4
    assert fragment.text.count("Checked ") == 4  # the worker's last check, with its time

    exported = web.get("/coordinator/audit.csv?event_type=PersonRegistered")
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    lines = exported.text.strip().splitlines()
    assert lines[0].startswith("occurred_at,service,event_type")
    assert len(lines) - 1 == len(_events(registered))
    assert small.institution["id"] not in exported.text
    # The export itself is in the trail.
    wait_until(lambda: "export" in _rows(web.get("/coordinator/audit?event_type=AccessRecorded")))


def test_the_admin_audit_pages_through_every_service(live_suite, admin, paired, small):
    web = _session(live_suite, admin["email"])

    def services_seen() -> set[str]:
        return set(
            ROW_SERVICE.findall(
                web.get("/admin/audit?institution=" + paired.institution["id"]).text
            )
        )

    # Pairing's publication reaches notifications asynchronously.
    wait_until(lambda: {"Enrollment", "Pairing", "Notifications"} <= services_seen(), timeout_s=60)

    first = web.get("/admin/audit")
    assert first.status_code == 200
    times = TIME_CELL.findall(first.text)
    assert len(times) == 50
    older = re.search(r'<a class="button" href="([^"]+)" hx-get="([^"]+)"', first.text)
    assert older and older.group(1) == older.group(2)
    older_url = html.unescape(older.group(1))

    # With htmx: only the next rows (and the next "Older" row) come back, to append.
    swapped = web.get(older_url, headers={"HX-Request": "true"})
    assert swapped.status_code == 200 and "<html" not in swapped.text
    assert swapped.text.lstrip().startswith("<tr")
    more = TIME_CELL.findall(swapped.text)
    assert more and not set(more) & set(times) and max(more) <= min(times)
    # Without JavaScript the same link is a page of its own.
    plain = web.get(older_url)
    assert "<html" in plain.text and "Older entries" in plain.text
    assert TIME_CELL.findall(plain.text) == more

    only_small = _rows(web.get(f"/admin/audit?institution={small.institution['id']}"))
    assert small.institution["name"] in only_small
    assert paired.institution["name"] not in only_small

    # A failed sign-in for an email nobody has: recorded, without the email.
    stranger = f"nobody-{secrets.token_hex(3)}@nowhere.example"
    anonymous = WebSession(live_suite.url)
    anonymous.get("/sign-in")
    refused = anonymous.form("/sign-in", {"email": stranger, "password": "wrong-password-123"})
    assert refused.status_code == 401
    failed = wait_until(
        lambda: (
            (p := web.get("/admin/audit?event_type=AccessRecorded"))
            and "sign_in_failed" in _rows(p)
            and p
        )
    )
    assert stranger not in failed.text and "nowhere.example" not in failed.text
    assert "email hash" in _rows(failed)

    assert web.get("/admin/audit?institution=nope").status_code == 404
    checked = web.get("/admin/audit?verify=1")
    assert _text(checked).count("chain intact") == 4
    exported = web.get("/admin/audit.csv")
    assert exported.status_code == 200 and paired.institution["id"] in exported.text


def test_the_admin_sees_deidentified_outcomes_per_institution(live_suite, admin, paired, small):
    web = _session(live_suite, admin["email"])

    def section(page, institution: dict) -> str:
        return page.text.split(f'id="outcomes-{institution["id"]}"')[1].split("</section>")[0]

    def shown():
        page = web.get("/admin/outcomes")
        assert page.status_code == 200
        paired_ready = f"{len(paired.pairs)} pairs" in section(page, paired.institution)
        small_ready = "Fewer than 5 people" in section(page, small.institution)
        return page if paired_ready and small_ready else None

    # Cycles and pairs reach feedback asynchronously.
    page = wait_until(shown, timeout_s=60, interval_s=0.5)
    text = _text(page)
    assert "Surgery peer mentoring" in text
    assert "people," not in section(page, small.institution)  # no figure about the small one
    everyone = [paired.coordinator, *paired.mentors, *paired.mentees]
    assert not any(p["name"] in text or p["id"] in text for p in everyone[1:])
    assert not STYLE_ATTRIBUTE.search(page.text)
