"""The mentor and mentee pages in front of the running suite: the pair, meetings, ranking,
surveys, concerns, the inbox, the profile and guidelines, through every service."""

from __future__ import annotations

import datetime as dt
import re
import types

import pytest
from live import publish_pairs, seed_program

from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/me"}
SECRET = "He mocked my accent in front of the team and cancels every meeting."


@pytest.fixture(scope="module")
def world(live_suite):
    """A program with 2 mentors and 3 mentees, paired and published; each pair as people."""
    program = seed_program(live_suite, mentors=2, mentees=3)
    published = publish_pairs(live_suite, program)
    people = {p["id"]: p for p in (*program.mentors, *program.mentees)}
    pairs = [
        types.SimpleNamespace(
            id=p["pair_id"], mentee=people[p["mentee_id"]], mentor=people[p["mentor_id"]]
        )
        for p in sorted(published, key=lambda p: people[p["mentee_id"]]["name"])
    ]
    assert len(pairs) == 3
    here = types.SimpleNamespace(program=program, pairs=pairs, live=live_suite)
    for pair in pairs:  # feedback knows every pair before surveys are issued to them
        me = as_person(here, pair.mentee, MENTEE)
        wait_until(
            lambda me=me: live_suite.ok("feedback", "GET", "/api/me/pairs", principal=me),
            timeout_s=60,
            interval_s=0.5,
        )
    return here


def as_person(world, person: dict, role: str) -> Principal:
    inst = world.program.institution["id"]
    return Principal(
        person["id"], (Grant(role, inst, world.program.program["id"]),), person["name"]
    )


def coordinator(world) -> Principal:
    person = world.program.coordinator
    return Principal(person["id"], (Grant(COORDINATOR, world.program.institution["id"]),))


def page_once(web, path: str, *needles: str, timeout_s: float = 60) -> str:
    """The page at `path` once it shows every needle (events cross services asynchronously)."""

    def ready() -> str | None:
        page = web.get(path)
        return page.text if page.ok and all(n in page.text for n in needles) else None

    return wait_until(ready, timeout_s=timeout_s, interval_s=0.5)


def meetings_of(world, pair_id: str) -> list[dict]:
    return world.live.ok(
        "feedback", "GET", f"/api/pairs/{pair_id}/meetings", principal=coordinator(world)
    )


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# --- the pair and meetings ------------------------------------------------------------------------


def test_a_mentee_sees_the_mentor_and_logs_a_meeting_the_mentor_confirms(world):
    pair = world.pairs[0]
    world.live.ok(
        "enrollment", "PATCH", f"/api/people/{pair.mentor['id']}", {"pronouns": "she/her"}
    )
    mentee = world.live.browser_session(pair.mentee["email"])

    shown = page_once(mentee, "/me/pair", pair.mentor["name"], pair.mentor["email"], "(she/her)")
    assert f'href="mailto:{pair.mentor["email"]}"' in shown
    assert "Monthly" in shown  # the cycle's meeting expectation
    assert "Surgery peer mentoring" in shown

    mentee.get("/me/meetings")
    logged = mentee.form(
        "/me/meetings",
        {
            "pair_id": pair.id,
            "date": today().isoformat(),
            "duration_minutes": "45",
            "mode": "virtual",
            "topics": "research project, wellness",
            "notes": "Agreed on a first abstract.",
        },
        allow_redirects=False,
    )
    assert logged.status_code == 302, logged.text
    assert mentee.get(logged.headers["Location"]).text.count("is logged") == 1
    [meeting] = meetings_of(world, pair.id)
    assert meeting["duration_minutes"] == 45 and meeting["topics"] == [
        "research project",
        "wellness",
    ]
    assert meeting["confirmed_by"] is None

    mentor = world.live.browser_session(pair.mentor["email"])
    page = page_once(mentor, "/me/meetings", "Agreed on a first abstract.")
    assert f"/me/meetings/{meeting['meeting_id']}/confirm" in page
    confirmed = mentor.form(f"/me/meetings/{meeting['meeting_id']}/confirm", allow_redirects=False)
    assert confirmed.status_code == 302
    assert meetings_of(world, pair.id)[0]["confirmed_by"] == pair.mentor["id"]
    assert "Yes" in mentee.get("/me/meetings").text


def test_a_meeting_in_the_future_is_refused_inline_and_nothing_is_saved(world):
    pair = world.pairs[2]
    mentee = world.live.browser_session(pair.mentee["email"])
    page_once(mentee, "/me/meetings", "Log a meeting")
    before = len(meetings_of(world, pair.id))

    refused = mentee.form(
        "/me/meetings",
        {
            "pair_id": pair.id,
            "date": (today() + dt.timedelta(days=5)).isoformat(),
            "duration_minutes": "30",
            "mode": "in_person",
        },
    )

    assert refused.status_code == 422
    assert "A meeting cannot be dated in the future." in refused.text
    field = re.search(r'<input[^>]*id="m-' + pair.id + r'-date"[^>]*>', refused.text).group(0)
    assert 'aria-invalid="true"' in field and f"m-{pair.id}-date-error" in field
    assert 'role="alert"' in refused.text
    assert len(meetings_of(world, pair.id)) == before


# --- ranking --------------------------------------------------------------------------------------


def test_a_mentee_ranks_mentors_and_the_ranking_persists(world):
    live, mentee_person = world.live, world.pairs[1].mentee
    mentors = live.ok("enrollment", "GET", f"/api/cycles/{world.program.cycle_id}/mentors")
    first, second = sorted(mentors, key=lambda m: m["name"])
    [enrollment] = live.ok("enrollment", "GET", f"/api/people/{mentee_person['id']}/enrollments")
    mentee = live.browser_session(mentee_person["email"])

    page = mentee.get("/me/ranking")
    assert page.status_code == 200
    assert first["name"] in page.text and second["name"] in page.text
    saved = mentee.form(
        "/me/ranking",
        {
            "enrollment_id": enrollment["id"],
            f"rank-{first['id']}": "2",
            f"rank-{second['id']}": "1",
        },
        allow_redirects=False,
    )
    assert saved.status_code == 302

    def ranking() -> list[str]:
        return live.ok("enrollment", "GET", f"/api/enrollments/{enrollment['id']}")["ranking"]

    assert ranking() == [second["id"], first["id"]]
    assert 'value="1" selected' in mentee.get("/me/ranking").text

    # One rank number for two mentors: said next to the list, and nothing changes.
    clash = mentee.form(
        "/me/ranking",
        {
            "enrollment_id": enrollment["id"],
            f"rank-{first['id']}": "1",
            f"rank-{second['id']}": "1",
        },
    )
    assert clash.status_code == 422
    assert "Give each rank number to one person only." in clash.text
    assert ranking() == [second["id"], first["id"]]

    # The htmx move button: only the list comes back, focus kept on the moved mentor.
    moved = mentee.form(
        "/me/ranking",
        {
            "enrollment_id": enrollment["id"],
            f"rank-{first['id']}": "2",
            f"rank-{second['id']}": "1",
            "move": f"up:{first['id']}",
        },
        headers=HTMX,
    )
    assert moved.status_code == 200
    assert "<html" not in moved.text and "<h1" not in moved.text
    assert (
        f'id="rank-{enrollment["id"]}-{first["id"]}" name="rank-{first["id"]}" data-focus'
        in moved.text
    )
    assert f"{first['name']} is now number 1." in moved.text  # told to screen readers (oob)
    assert ranking() == [first["id"], second["id"]]


def test_a_mentor_cannot_open_the_ranking_page(world):
    mentor = world.live.browser_session(world.pairs[0].mentor["email"])

    assert mentor.get("/me/ranking").status_code == 403
    assert mentor.get("/me/pair").status_code == 200


# --- surveys --------------------------------------------------------------------------------------


def test_a_mentee_answers_a_survey_and_the_response_is_stored(world):
    live, program = world.live, world.program
    template = live.ok(
        "feedback",
        "POST",
        f"/api/institutions/{program.institution['id']}/survey-templates",
        {
            "name": "Three-month check-in",
            "items": [
                {"item_id": "helpful", "kind": "likert", "prompt": "How helpful is your mentor?"},
                {"item_id": "next", "kind": "text", "prompt": "What next?", "required": False},
            ],
        },
        principal=coordinator(world),
    )
    live.ok(
        "feedback",
        "POST",
        f"/api/cycles/{program.cycle_id}/survey-schedules",
        {"template_id": template["template_id"], "months": [0]},
        principal=coordinator(world),
    )
    pair = world.pairs[1]
    me = as_person(world, pair.mentee, MENTEE)

    def issued() -> list[dict]:
        live.ok("feedback", "POST", "/api/surveys/issue-due")  # the worker does it each minute
        return [
            s
            for s in live.ok("feedback", "GET", "/api/me/surveys", principal=me)
            if s["template"] == "Three-month check-in"
        ]

    [instance] = wait_until(issued, timeout_s=60, interval_s=1)
    mentee = live.browser_session(pair.mentee["email"])
    assert "Three-month check-in" in mentee.get("/me/surveys").text
    path = f"/me/surveys/{instance['instance_id']}"
    form = mentee.get(path).text
    assert "<legend" in form and "How helpful is your mentor? (required)" in form
    assert form.count('type="radio"') == 5

    missing = mentee.form(path, {"item-next": "More research time"})
    assert missing.status_code == 422
    assert "An answer is required." in missing.text
    assert "More research time" in missing.text  # what was typed is kept

    answered = mentee.form(
        path, {"item-helpful": "4", "item-next": "More research time"}, allow_redirects=False
    )
    assert answered.status_code == 302
    stored = live.ok(
        "feedback",
        "GET",
        f"/api/survey-instances/{instance['instance_id']}/responses/me",
        principal=me,
    )
    assert stored["answers"] == {"helpful": 4, "next": "More research time"}
    again = mentee.get(path).text
    assert re.search(r'value="4" checked', again)


# --- concerns -------------------------------------------------------------------------------------


def test_a_concern_reaches_the_coordinator_and_never_the_mentor(world):
    live, pair = world.live, world.pairs[2]
    mentee = live.browser_session(pair.mentee["email"])
    page = mentee.get("/me/concern").text
    assert "The people in your pairing are never shown it" in page

    empty = mentee.form("/me/concern", {"pair_id": pair.id, "kind": "boundary", "text": ""})
    assert empty.status_code == 422 and 'id="concern-text-error"' in empty.text

    sent = mentee.form(
        "/me/concern",
        {"pair_id": pair.id, "kind": "boundary", "text": SECRET},
        allow_redirects=False,
    )
    assert sent.status_code == 302
    after = mentee.get(sent.headers["Location"])
    assert "sent privately" in after.text and SECRET not in after.text

    listed = live.ok(
        "feedback", "GET", "/api/concerns", principal=coordinator(world),
        params={"cycle_id": world.program.cycle_id},
    )  # fmt: skip
    [concern] = listed
    read = live.ok(
        "feedback", "GET", f"/api/concerns/{concern['concern_id']}", principal=coordinator(world)
    )
    assert read["text"] == SECRET and read["kind"] == "boundary"
    mentor = as_person(world, pair.mentor, MENTOR)
    hidden = live.api("feedback", "GET", f"/api/concerns/{concern['concern_id']}", principal=mentor)
    assert hidden.status_code in (403, 404)


# --- inbox ----------------------------------------------------------------------------------------


def test_the_inbox_shows_notifications_and_marking_read_works(world):
    live, pair = world.live, world.pairs[0]
    mentee = live.browser_session(pair.mentee["email"])
    me = as_person(world, pair.mentee, MENTEE)
    page = page_once(
        mentee, "/me/inbox", "Your Surgery peer mentoring pairing: meet", "You are enrolled"
    )
    assert 'aria-live="polite"' in page and 'hx-trigger="every 20s"' in page
    unread = re.findall(r"/me/inbox/([0-9a-f-]{36})/read", page)
    assert len(unread) >= 2

    # htmx: only the item comes back, with the unread count for the live region.
    swapped = mentee.form(f"/me/inbox/{unread[0]}/read", headers=HTMX)
    assert swapped.status_code == 200
    assert "<html" not in swapped.text and 'hx-swap-oob="innerHTML"' in swapped.text
    assert f"/me/inbox/{unread[0]}/read" not in swapped.text and "data-focus" in swapped.text
    assert 'id="inbox-poll"' in swapped.text  # the poller learns the new state
    # Without JavaScript: a plain form post, then back to the inbox.
    plain = mentee.form(f"/me/inbox/{unread[1]}/read", allow_redirects=False)
    assert plain.status_code == 302
    notices = {
        n["id"]: n
        for n in live.ok(
            "notifications", "GET", f"/api/people/{pair.mentee['id']}/notifications", principal=me
        )
    }
    assert notices[unread[0]]["read"] and notices[unread[1]]["read"]

    # The poll answers 204 while nothing changed, and the list when something did.
    def unchanged() -> bool:  # another notice may arrive between the two requests: ask again
        page = mentee.get("/me/inbox").text
        known = re.search(r'"known": "([0-9a-f]+)"', page).group(1)
        return mentee.get("/me/inbox", params={"known": known}, headers=HTMX).status_code == 204

    wait_until(unchanged, timeout_s=30, interval_s=0.5)
    fresh = mentee.get("/me/inbox", params={"known": "stale"}, headers=HTMX)
    assert fresh.status_code == 200 and "<html" not in fresh.text
    assert 'id="inbox-poll"' in fresh.text and 'hx-swap-oob="true"' in fresh.text


def test_notification_preferences_keep_mandatory_notices_by_email(world):
    live, person = world.live, world.pairs[1].mentor
    mentor = live.browser_session(person["email"])
    page = mentor.get("/me/inbox").text
    assert "Email, always" in page and 'name="pref-pair_published"' not in page

    saved = mentor.form(
        "/me/inbox/preferences", {"pref-meeting_logged": "in_app", "pref-survey_due": "digest"},
        allow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 302
    prefs = live.ok(
        "notifications", "GET", f"/api/people/{person['id']}/notification-preferences",
        principal=as_person(world, person, MENTOR),
    )["preferences"]  # fmt: skip
    assert prefs["meeting_logged"] == "in_app" and prefs["survey_due"] == "digest"
    assert prefs["pair_published"] == "email"


# --- profile and guidelines -----------------------------------------------------------------------


def test_the_profile_saves_and_explains_refusals_inline(world):
    live, person = world.live, world.pairs[2].mentor
    [enrollment] = live.ok("enrollment", "GET", f"/api/people/{person['id']}/enrollments")
    mentor = live.browser_session(person["email"])
    page = mentor.get("/me/profile").text
    assert "Surgery peer mentoring" in page and "How many mentees you can take on" in page

    fields = {
        "section": enrollment["id"], "interests": "trauma, research", "goals": "Research mentoring",
        "languages": "English, Spanish", "meeting_mode": "virtual",
    }  # fmt: skip
    refused = mentor.form("/me/profile", [*fields.items(), ("capacity", "0")])
    assert refused.status_code == 422
    assert "capacity must be from 1 to 20" in refused.text
    assert f'id="p-{enrollment["id"]}-capacity-error"' in refused.text

    saved = mentor.form(
        "/me/profile",
        [
            *fields.items(),
            ("capacity", "3"),
            ("availability", "tue-eve"),
            ("availability", "sat-am"),
        ],
        allow_redirects=False,
    )
    assert saved.status_code == 302
    stored = live.ok("enrollment", "GET", f"/api/enrollments/{enrollment['id']}")
    assert stored["capacity"] == 3 and stored["languages"] == ["English", "Spanish"]
    assert stored["availability"] == ["tue-eve", "sat-am"] and stored["meeting_mode"] == "virtual"


def test_guidelines_awaiting_acceptance_are_accepted(world):
    live, person = world.live, world.pairs[1].mentee
    mentee = live.browser_session(person["email"])
    page = mentee.get("/me/guidelines").text
    assert "Meet monthly. Agree objectives early." in page
    assert "I have read and accept the guidelines" in page

    accepted = mentee.form(
        "/me/guidelines", {"program_id": world.program.program["id"]}, allow_redirects=False
    )

    assert accepted.status_code == 302
    [enrollment] = live.ok("enrollment", "GET", f"/api/people/{person['id']}/enrollments")
    assert enrollment["guidelines_accepted_version"] == 1
    assert "You accepted this version." in mentee.get("/me/guidelines").text


# --- mentee choice --------------------------------------------------------------------------------


def test_a_mentor_accepts_a_mentees_request_and_they_are_paired(live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1)
    mentee, mentor = program.mentees[0], program.mentors[0]
    [mentor_enrollment] = live_suite.ok(
        "enrollment", "GET", f"/api/cycles/{program.cycle_id}/mentors"
    )
    [enrollment] = live_suite.ok("enrollment", "GET", f"/api/people/{mentee['id']}/enrollments")
    live_suite.ok(
        "enrollment", "PUT", f"/api/enrollments/{enrollment['id']}/ranking",
        {"mentor_enrollment_ids": [mentor_enrollment["id"]]},
    )  # fmt: skip

    def opened() -> list[dict]:  # once pairing has the ranking, the round sends the request
        path = f"/api/cycles/{program.cycle_id}/choice-rounds"
        return live_suite.ok("pairing", "POST", path, {"response_hours": 48})

    [request] = wait_until(opened, timeout_s=60, interval_s=1)
    web = live_suite.browser_session(mentor["email"])
    page = web.get("/me/pair").text
    assert "Mentees asking you to be their mentor" in page and mentee["name"] in page
    accept = f"/me/pair/requests/{request['request_id']}/accept"
    assert accept in page

    asker = live_suite.browser_session(mentee["email"])
    assert "Waiting for an answer" in asker.get("/me/pair").text
    assert asker.form(accept).status_code == 403  # only the mentor answers

    accepted = web.form(accept, allow_redirects=False)
    assert accepted.status_code == 302
    assert "You accepted" in web.get(accepted.headers["Location"]).text
    [pair] = live_suite.ok("pairing", "GET", f"/api/cycles/{program.cycle_id}/pairs")
    assert (pair["mentee_id"], pair["mentor_id"]) == (mentee["id"], mentor["id"])
    page_once(asker, "/me/pair", "Accepted", f"mailto:{mentor['email']}")
