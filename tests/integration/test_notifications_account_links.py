"""One-time password links through the notifications service: queued by the web (as the system),
emailed over real SMTP with the link, and never stored in an event (events are the audit trail):
not in the store, not on the broker. With no SMTP server the local mail keeps the link for the
development outbox. And from the web's forgot page, an enrolled person with no account yet gets
a set-password link that works."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import test_notifications_delivery as base

from services.eventkit import config
from services.eventkit.auth import ADMIN, MENTEE, SYSTEM, Grant, Principal
from services.eventkit.operations import rebuild_own
from services.eventkit.worker import Worker
from services.notifications import delivery
from services.notifications import readmodels as rm
from services.notifications.domain.notification import LINK_WITHHELD
from services.notifications.service import SERVICE
from support import auth_headers, deliver, read_topic, wait_until

world, smtp = base.world, base.smtp  # fixtures
URL = "https://tandem.example.org/password/reset/SECRET-one-time-TOKEN_42"


def ask(world, body: dict, headers=None, person: str = "mentee"):
    """POST an account link, as the system (the web) unless told otherwise."""
    headers = headers or auth_headers(Grant(SYSTEM), user="system")
    person_id = world.people[person]["id"] if person in world.people else person
    return world.api.post(f"/api/people/{person_id}/account-links", json=body, headers=headers)


def everything_stored(rt) -> str:
    """Every event and every outbox message of the store, as text."""
    with rt.reading() as conn:
        events = [e.to_json().decode() for _, e in rt.store.read_all(conn, upcast=False)]
        outbox = conn.execute(sa.select(rt.service.tables.outbox.c.message)).scalars().all()
    return "\n".join([*events, *outbox])


def test_a_link_is_emailed_with_the_link_and_no_event_keeps_it(world, smtp):
    deliver(SERVICE, world.rt, world.events)
    mentee = world.people["mentee"]
    body = {"kind": "reset", "url": URL, "email": mentee["email"]}
    refused = {
        "an admin": ask(world, body, auth_headers(Grant(ADMIN), user="admin-1")),
        "the person": ask(world, body, world.headers["mentee"]),
        "a bad url": ask(world, {**body, "url": "javascript:alert(1)"}),
        "a bad kind": ask(world, {**body, "kind": "invite"}),
        "a bad email": ask(world, {**body, "email": "not-an-address"}),
    }
    assert {k: r.status_code for k, r in refused.items()} == {
        "an admin": 403, "the person": 403, "a bad url": 422, "a bad kind": 422, "a bad email": 422,
    }  # fmt: skip
    queued = ask(world, body)
    assert queued.status_code == 202 and queued.json["state"] == "queued"

    smtp.start()
    delivery.Sender(world.rt, base.settings(smtp.port)).run_once()
    [mail] = [m for m in smtp.mailbox.to(mentee["email"]) if "password" in m["Subject"]]
    assert mail["Subject"] == "Reset your Tandem password"
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Dear Sam Mentee" in text and URL in text and "within 1 hour" in text
    assert f'href="{URL}"' in html and base.INSTITUTION in text

    [event] = [e for e in base.stored(world, "NotificationQueued") if e.payload["kind"] == "password_reset"]  # fmt: skip
    assert event.payload["channels"] == ["email"] and event.payload["email"] == mentee["email"]
    assert LINK_WITHHELD in event.payload["body"]
    assert "SECRET" not in everything_stored(world.rt)  # no event, no outbox message
    row = base.deliveries(world)["mentee:password_reset"]
    assert row.state == "sent" and "SECRET" not in row.text_body + row.html_body
    with world.rt.reading() as conn:
        assert conn.execute(sa.select(rm.private_bodies)).all() == []  # kept until sent only
    mine = auth_headers(Grant(MENTEE, world.institution["id"]), user=mentee["id"])
    inbox = world.api.get(f"/api/people/{mentee['id']}/notifications", headers=mine).json
    assert "password_reset" not in {n["kind"] for n in inbox}  # email only


def test_without_smtp_the_local_mail_keeps_the_link_even_across_a_rebuild(world):
    # Someone enrollment knows but notifications has not heard of yet: a plain greeting.
    stranger = "0b7e8c1e-0000-4000-8000-000000000001"
    body = {"kind": "set", "url": URL, "email": "new.person@northwind.example"}
    assert ask(world, body, person=stranger).status_code == 202
    assert rebuild_own(world.rt) > 0  # read models replayed from the events alone
    sender = delivery.Sender(world.rt, base.settings(None))
    assert sender.run_once() == 1
    admin = auth_headers(Grant(ADMIN), user="admin-1")
    [kept] = world.api.get("/api/local-mail", headers=admin).json
    assert kept["subject"] == "Set your Tandem password"
    assert kept["to_address"] == "new.person@northwind.example"
    assert kept["text_body"].startswith("Hello,") and URL in kept["text_body"]
    assert "within 72 hours" in kept["text_body"]
    assert "SECRET" not in everything_stored(world.rt)


@pytest.mark.kafka
def test_a_link_goes_through_the_worker_and_never_reaches_the_broker(
    topic_prefix, kafka_bootstrap, monkeypatch, world
):
    assert world.rt.store.topic == config.topic("notifications")  # this test's own topics
    server = base.SmtpServer()
    server.start()
    for name, value in {
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none",
        "NOTIFY_POLL_S": "0.05",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    url = world.rt.engine.url.render_as_string(hide_password=False)
    worker = Worker(SERVICE, url, kafka_bootstrap)
    worker.start()
    try:
        email = world.people["mentor"]["email"]
        for link in (URL, URL + "-again"):
            assert ask(world, {"kind": "reset", "url": link, "email": email}).status_code == 202
        wait_until(lambda: len(server.mailbox.to(email)) == 2, timeout_s=60)
        records = read_topic(kafka_bootstrap, config.topic("notifications"), expected=4)
    finally:
        worker.shutdown()
        server.stop()
    bodies = sorted(m.get_body(("plain",)).get_content() for m in server.mailbox.to(email))
    assert URL in bodies[0] and URL + "-again" in bodies[1]
    published = [r.value.decode() for r in records]
    assert sum('"NotificationQueued"' in v for v in published) == 2
    assert sum('"NotificationSent"' in v for v in published) == 2
    assert not any("SECRET" in v for v in published)


@pytest.mark.kafka
def test_an_enrolled_person_without_an_account_gets_in_from_the_forgot_page(live_suite):
    """A roster-imported person (enrolled, no web account) asks for a link: the same answer as
    anyone, a mail over real SMTP, and its set-password link works."""
    from live import PASSWORD, seed_program

    from web.auth import RESET_SENT

    program = seed_program(live_suite, mentors=1, mentees=1, wait_for_pairing=False)
    mentee = program.mentees[0]

    def institution_known() -> bool:  # the mentee's welcome names it once notifications has it
        notices = live_suite.ok(
            "notifications",
            "GET",
            f"/api/people/{mentee['id']}/notifications",
            principal=Principal(mentee["id"], (Grant(MENTEE, program.institution["id"]),)),
        )
        return any(program.institution["name"] in n["body"] for n in notices)

    wait_until(institution_known, timeout_s=60)
    email = f"rory.roster.{program.institution['short_code'].lower()}@riverside.example"
    live_suite.ok("enrollment", "POST", "/api/people", {
        "institution_id": program.institution["id"], "name": "Rory Roster", "email": email,
        "training_level": "PGY1",
    })  # fmt: skip
    web = base_session(live_suite)
    web.get("/password/forgot")
    answer = web.form("/password/forgot", {"email": email.upper()})
    unknown = base_session(live_suite)
    unknown.get("/password/forgot")
    nobody = unknown.form("/password/forgot", {"email": "nobody.at.all@riverside.example"})
    assert answer.status_code == nobody.status_code == 200
    assert RESET_SENT in answer.text and RESET_SENT in nobody.text

    [mail] = wait_until(lambda: live_suite.smtp.mailbox.to(email), timeout_s=60)
    assert mail["Subject"] == "Set your Tandem password"
    text = mail.get_body(("plain",)).get_content()
    assert "Dear Rory Roster" in text and program.institution["name"] in text
    [link] = re.findall(r"http://\S+", text)
    assert link.startswith(live_suite.url + "/password/reset/")
    path = urlsplit(link).path
    assert web.get(path).status_code == 200
    done = web.form(path, {"password": PASSWORD, "confirm": PASSWORD}, allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")
    signed_in = live_suite.browser_session(email)  # asserts the sign-in redirects home
    assert "Rory Roster" in signed_in.get("/home").text
    assert web.get(path).status_code == 410  # used once
    assert live_suite.smtp.mailbox.to("nobody.at.all@riverside.example") == []


def base_session(live_suite):
    from live import WebSession

    return WebSession(live_suite.url)
