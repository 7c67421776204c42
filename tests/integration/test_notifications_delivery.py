"""Notifications delivered over real SMTP (aiosmtpd on loopback) from real enrollment events, on
SQLite and PostgreSQL: once per event and person, retried while the server is down, failed on a
permanent refusal, not resent after a recorded success, with preferences and digests."""

from __future__ import annotations

import datetime as dt
import threading
import types

import pytest
import sqlalchemy as sa

from services.eventkit.auth import ADMIN, COORDINATOR, MENTEE, Grant
from services.eventkit.contracts import pairing
from services.eventkit.envelope import GENESIS_HASH, SYSTEM_ACTOR, Envelope, new_id, utcnow
from services.eventkit.migrations import upgrade
from services.notifications import delivery
from services.notifications import readmodels as rm
from services.notifications.app import create_app
from services.notifications.domain.messages import KINDS
from services.notifications.service import SERVICE
from support import SmtpServer, auth_headers, deliver, wait_until

INSTITUTION = "Northwind Medical School"
GUIDELINES = "Meet monthly. Keep what is said in confidence."


@pytest.fixture
def smtp():
    server = SmtpServer()
    yield server
    server.stop()


def settings(port: int | None, **overrides) -> delivery.DeliverySettings:
    smtp = delivery.SmtpSettings("127.0.0.1", port, security="none", timeout_s=5) if port else None
    values = {"retry_base_s": 0.2, "max_attempts": 8, "claim_s": 300, "poll_s": 0.05}
    return delivery.DeliverySettings(smtp=smtp, sender="Tandem <tandem@example.org>", **{**values, **overrides})  # fmt: skip


@pytest.fixture
def world(client, admin, enrollment_app, database_url, request, tmp_path):
    """An institution with a program, a cycle, a mentor and a mentee, enrolled through the
    enrollment API; an empty, migrated notifications database beside it."""

    def post(url, body):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    inst = post(
        "/api/institutions",
        {"name": INSTITUTION, "short_code": "NW", "time_zone": "America/Chicago"},
    )
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "Resident Peer Mentoring", "program_type": "resident_peer_mentoring", "guidelines": GUIDELINES},
    )  # fmt: skip
    cycle = post(
        f"/api/programs/{program['id']}/cycles",
        {"name": "2026-27", "meeting_expectations": "Meet at least once a month."},
    )
    people = {}
    for key, name, level, role in (
        ("mentor", "Dana Mentor", "PGY5", "mentor"),
        ("mentee", "Sam Mentee", "PGY1", "mentee"),
    ):
        people[key] = post(
            "/api/people",
            {"institution_id": inst["id"], "name": name, "email": f"{key}@northwind.example", "training_level": level},
        )  # fmt: skip
        body = {"person_id": people[key]["id"], "role": role}
        post(f"/api/cycles/{cycle['id']}/enrollments", {**body, **({"capacity": 2} if role == "mentor" else {})})  # fmt: skip

    url = (
        f"sqlite:///{tmp_path / 'notifications.db'}"
        if database_url.startswith("sqlite")
        else request.getfixturevalue("pg_database_factory")("notify")
    )
    upgrade(SERVICE.migrations, url)
    app = create_app(url)
    rt = app.extensions["tandem"]
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        events = [e for _, e in source.store.read_all(conn)]
    headers = {
        key: auth_headers(Grant(MENTEE, inst["id"], program["id"]), user=person["id"])
        for key, person in people.items()
    }
    yield types.SimpleNamespace(
        institution=inst, program=program, cycle=cycle, people=people, events=events,
        app=app, api=app.test_client(), rt=rt, headers=headers,
    )  # fmt: skip
    rt.engine.dispose()


def address(world, key: str) -> str:
    return world.people[key]["email"]


def deliveries(world) -> dict[str, sa.Row]:
    """Email deliveries by recipient key (mentor / mentee)."""
    ids = {p["id"]: key for key, p in world.people.items()}
    with world.rt.reading() as conn:
        rows = conn.execute(sa.select(rm.deliveries).where(rm.deliveries.c.channel == "email"))
        return {f"{ids[r.recipient_id]}:{r.kind}": r for r in rows}


def stored(world, event_type: str) -> list[Envelope]:
    with world.rt.reading() as conn:
        return [e for _, e in world.rt.store.read_all(conn) if e.event_type == event_type]


def pair_created(world) -> Envelope:
    """PairCreated as the pairing service publishes it for this cycle's two people."""
    payload = pairing.registry.get("PairCreated").validate(
        {
            "pair_id": new_id(),
            "cycle_id": world.cycle["id"],
            "run_id": new_id(),
            "mentee_id": world.people["mentee"]["id"],
            "mentor_id": world.people["mentor"]["id"],
            "score": 0.8,
        }
    )
    return Envelope(
        event_id=new_id(), event_type="PairCreated", schema_version=1,
        stream_id=f"pair-{payload['pair_id']}", stream_version=1,
        institution_id=world.institution["id"], actor=dict(SYSTEM_ACTOR), occurred_at=utcnow(),
        correlation_id=new_id(), causation_id=None, payload=payload,
    ).sealed(GENESIS_HASH)  # fmt: skip


def test_the_right_people_get_the_right_mail_once(world, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    deliver(SERVICE, world.rt, world.events)  # the broker delivered every event twice
    sender = delivery.Sender(world.rt, settings(smtp.port))
    assert sender.run_once() == 2
    assert sender.run_once() == 0

    box = smtp.mailbox
    assert len(box.messages) == 2
    [mentee_mail] = box.to(address(world, "mentee"))
    [mentor_mail] = box.to(address(world, "mentor"))
    assert mentee_mail["Subject"] == "You are enrolled in Resident Peer Mentoring"
    text = mentee_mail.get_body(("plain",)).get_content()
    html = mentee_mail.get_body(("html",)).get_content()
    assert "Dear Sam Mentee" in text and "as a mentee" in text and GUIDELINES in text
    assert INSTITUTION in text and f"The {INSTITUTION} mentorship program team" in text
    assert INSTITUTION in html and "<strong>Resident Peer Mentoring</strong>" in html
    assert "as a mentor" in mentor_mail.get_body(("plain",)).get_content()

    rows = deliveries(world)
    assert {k: (r.state, r.attempts) for k, r in rows.items()} == {
        "mentee:enrolled": ("sent", 1),
        "mentor:enrolled": ("sent", 1),
    }
    assert len(stored(world, "NotificationQueued")) == 2
    assert sorted(e.payload["transport"] for e in stored(world, "NotificationSent")) == ["smtp"] * 2


def test_mail_arrives_after_the_smtp_server_comes_back(world, smtp):
    deliver(SERVICE, world.rt, world.events)  # nothing listens on smtp.port yet
    sender = delivery.Sender(world.rt, settings(smtp.port))
    stop = threading.Event()
    loop = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    loop.start()
    try:
        wait_until(lambda: all(r.attempts >= 2 for r in deliveries(world).values()), timeout_s=20)
        rows = deliveries(world)
        assert all(r.state == "queued" and "Connection" in r.last_error for r in rows.values())
        smtp.start()
        wait_until(lambda: len(smtp.mailbox.messages) == 2, timeout_s=20)
        wait_until(lambda: all(r.state == "sent" for r in deliveries(world).values()))
    finally:
        stop.set()
        loop.join(10)
    assert len(smtp.mailbox.to(address(world, "mentee"))) == 1
    assert len(smtp.mailbox.to(address(world, "mentor"))) == 1
    assert all(e.payload["attempts"] >= 2 for e in stored(world, "NotificationSent"))


def test_a_permanent_refusal_ends_failed_and_coordinators_see_it(world, smtp):
    smtp.mailbox.refuse.add(address(world, "mentee"))
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    sender = delivery.Sender(world.rt, settings(smtp.port))
    assert sender.run_once() == 2
    assert sender.run_once() == 0  # failed at once, not retried

    rows = deliveries(world)
    assert (rows["mentee:enrolled"].state, rows["mentee:enrolled"].attempts) == ("failed", 1)
    assert rows["mentor:enrolled"].state == "sent"
    [failed] = stored(world, "NotificationFailed")
    assert failed.payload["permanent"] is True and "550" in failed.payload["error"]
    assert failed.payload["recipient_id"] == world.people["mentee"]["id"]

    inst = world.institution["id"]
    coordinator = auth_headers(Grant(COORDINATOR, inst), user="coord")
    response = world.api.get(
        f"/api/institutions/{inst}/deliveries?state=failed", headers=coordinator
    )
    assert response.status_code == 200
    assert [(d["to_address"], d["state"]) for d in response.json] == [
        (address(world, "mentee"), "failed")
    ]
    outsider = auth_headers(Grant(COORDINATOR, "another-institution"), user="coord-2")
    assert (
        world.api.get(f"/api/institutions/{inst}/deliveries", headers=outsider).status_code == 403
    )


def test_transient_failures_give_up_after_max_attempts(world, smtp):
    deliver(SERVICE, world.rt, world.events)  # the server never comes up
    sender = delivery.Sender(world.rt, settings(smtp.port, retry_base_s=0.01, max_attempts=3))
    wait_until(lambda: sender.run_once() == 0 and all(r.state == "failed" for r in deliveries(world).values()), timeout_s=20)  # fmt: skip
    assert all(r.attempts == 3 for r in deliveries(world).values())
    assert [e.payload["permanent"] for e in stored(world, "NotificationFailed")] == [False, False]


def test_pair_published_tells_each_who_their_partner_is(world, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    pair = pair_created(world)
    deliver(SERVICE, world.rt, [pair, pair], topic="tandem.pairing.v1")
    delivery.Sender(world.rt, settings(smtp.port)).run_once()

    [to_mentee] = [
        m for m in smtp.mailbox.to(address(world, "mentee")) if "pairing" in m["Subject"]
    ]
    [to_mentor] = [
        m for m in smtp.mailbox.to(address(world, "mentor")) if "pairing" in m["Subject"]
    ]
    assert to_mentee["Subject"] == "Your Resident Peer Mentoring pairing: meet Dana Mentor"
    text = to_mentee.get_body(("plain",)).get_content()
    assert "Your mentor is Dana Mentor (mentor@northwind.example)" in text
    assert "First steps" in text and "Meet at least once a month." in text
    html = to_mentee.get_body(("html",)).get_content()
    assert 'href="mailto:mentor@northwind.example"' in html
    assert "Your mentee is Sam Mentee (mentee@northwind.example)" in to_mentor.get_body(("plain",)).get_content()  # fmt: skip


def test_preferences_choose_the_channel_but_mandatory_notices_always_mail(world, smtp):
    mentee, url = world.people["mentee"]["id"], f"/api/people/{world.people['mentee']['id']}"
    api, mine = world.api, world.headers["mentee"]

    refused = api.put(f"{url}/notification-preferences", json={"preferences": {"pair_published": "in_app"}}, headers=mine)  # fmt: skip
    assert refused.status_code == 422
    assert "pair_published" in refused.json["errors"]["json"]["preferences"]
    other = api.put(f"{url}/notification-preferences", json={"preferences": {"enrolled": "in_app"}}, headers=world.headers["mentor"])  # fmt: skip
    assert other.status_code == 403
    chosen = api.put(f"{url}/notification-preferences", json={"preferences": {"enrolled": "in_app"}}, headers=mine)  # fmt: skip
    assert chosen.status_code == 200, chosen.json
    assert chosen.json["preferences"] == {kind: "email" for kind in KINDS} | {"enrolled": "in_app"}
    as_admin = api.get(f"{url}/notification-preferences", headers=auth_headers(Grant(ADMIN), user="admin-1"))  # fmt: skip
    assert as_admin.json["preferences"]["enrolled"] == "in_app"
    assert api.get(f"{url}/notification-preferences", headers=world.headers["mentor"]).status_code == 403  # fmt: skip

    smtp.start()
    deliver(SERVICE, world.rt, [*world.events, pair_created(world)])
    delivery.Sender(world.rt, settings(smtp.port)).run_once()
    subjects = [m["Subject"] for m in smtp.mailbox.to(address(world, "mentee"))]
    assert subjects == [
        "Your Resident Peer Mentoring pairing: meet Dana Mentor"
    ]  # no enrolled mail
    assert len(smtp.mailbox.to(address(world, "mentor"))) == 2

    inbox = api.get(f"{url}/notifications", headers=mine).json
    assert {n["kind"] for n in inbox} == {"enrolled", "pair_published"}
    assert not any(n["read"] for n in inbox)
    enrolled = next(n for n in inbox if n["kind"] == "enrolled")
    read = api.post(f"{url}/notifications/{enrolled['id']}/read", headers=mine)
    assert read.status_code == 200 and read.json["read"] is True
    assert api.post(f"{url}/notifications/{enrolled['id']}/read", headers=mine).status_code == 200
    assert len(stored(world, "NotificationRead")) == 1  # reading again records nothing new
    assert api.post(f"{url}/notifications/{enrolled['id']}/read", headers=world.headers["mentor"]).status_code == 403  # fmt: skip
    assert api.post(f"{url}/notifications/nope/read", headers=mine).status_code == 404
    assert mentee


@pytest.mark.parametrize("batch", [1, 25])
def test_mails_that_went_are_recorded_once_together_or_one_by_one(world, smtp, monkeypatch, batch):
    """Recorded in batches; a batch the store refuses (one notification changed meanwhile) is
    recorded mail by mail, so nothing that went is sent again."""
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    monkeypatch.setattr(delivery, "RECORD_BATCH", batch)
    refused = []

    def refuse_once(uow, sent):
        refused.append(len(sent))
        raise RuntimeError("a notification changed meanwhile")

    monkeypatch.setattr(delivery.mail, "record_all_sent", refuse_once)
    sender = delivery.Sender(world.rt, settings(smtp.port))
    assert sender.run_once() == 2
    assert refused == ([1, 1] if batch == 1 else [2])
    assert {r.state for r in deliveries(world).values()} == {"sent"}
    assert len(stored(world, "NotificationSent")) == 2
    monkeypatch.undo()
    assert delivery.Sender(world.rt, settings(smtp.port)).run_once() == 0
    assert len(smtp.mailbox.to(address(world, "mentor"))) == 1


class Killed(BaseException):
    """The process dying: not an Exception, so nothing in the sender catches it."""


def test_a_sender_killed_mid_send_never_resends_a_recorded_mail(world, smtp, monkeypatch):
    smtp.start()
    cut = next(
        n for n, e in enumerate(world.events)
        if e.event_type == "ParticipantEnrolled" and e.payload["role"] == "mentee"
    )  # fmt: skip
    deliver(SERVICE, world.rt, world.events[:cut])
    assert delivery.Sender(world.rt, settings(smtp.port)).run_once() == 1  # mentor's, recorded

    deliver(SERVICE, world.rt, world.events[cut:])
    real_transmit = delivery.transmit

    def dies_after_sending(smtp_settings, message):
        real_transmit(smtp_settings, message)
        raise Killed  # after the SMTP transaction, before the sent mail is recorded

    monkeypatch.setattr(delivery, "transmit", dies_after_sending)
    with pytest.raises(Killed):
        delivery.Sender(world.rt, settings(smtp.port, claim_s=4)).run_once()
    monkeypatch.setattr(delivery, "transmit", real_transmit)
    assert len(smtp.mailbox.to(address(world, "mentee"))) == 1
    assert deliveries(world)["mentee:enrolled"].state == "queued"

    restarted = delivery.Sender(world.rt, settings(smtp.port, claim_s=4))
    assert restarted.run_once() == 0  # the dead sender's claim still holds
    wait_until(lambda: restarted.run_once() == 1, timeout_s=30)  # its lease ran out
    assert restarted.run_once() == 0
    # The recorded mail went once; the unrecorded one at most once more, then never again.
    assert len(smtp.mailbox.to(address(world, "mentor"))) == 1
    assert len(smtp.mailbox.to(address(world, "mentee"))) == 2
    assert len(stored(world, "NotificationSent")) == 2


def test_without_smtp_mail_is_kept_in_the_local_outbox(world):
    deliver(SERVICE, world.rt, world.events)
    sender = delivery.Sender(world.rt, settings(None))
    assert sender.run_once() == 2
    assert sender.run_once() == 0
    assert {r.state for r in deliveries(world).values()} == {"kept"}
    assert {e.payload["transport"] for e in stored(world, "NotificationSent")} == {"local"}
    response = world.api.get("/api/local-mail", headers=auth_headers(Grant(ADMIN), user="admin-1"))
    assert response.status_code == 200
    assert sorted(m["to_address"] for m in response.json) == [address(world, "mentee"), address(world, "mentor")]  # fmt: skip
    assert all(INSTITUTION in m["text_body"] for m in response.json)
    assert world.api.get("/api/local-mail", headers=world.headers["mentee"]).status_code == 403


def test_a_daily_digest_collects_and_goes_once_at_seven_local_time(world, smtp):
    mentee = world.people["mentee"]["id"]
    chosen = world.api.put(
        f"/api/people/{mentee}/notification-preferences",
        json={"preferences": {"enrolled": "digest"}},
        headers=world.headers["mentee"],
    )
    assert chosen.status_code == 200
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    sender = delivery.Sender(world.rt, settings(smtp.port))
    assert sender.run_once() == 1  # the mentor's email; the mentee's item waits for the digest
    with world.rt.reading() as conn:
        next_run = conn.execute(sa.select(rm.digests.c.next_run_at)).scalar_one()
    next_run = next_run.replace(tzinfo=next_run.tzinfo or dt.UTC)
    local = next_run.astimezone(__import__("zoneinfo").ZoneInfo("America/Chicago"))
    assert (local.hour, local.minute) == (7, 0) and next_run > utcnow()
    assert next_run - utcnow() <= dt.timedelta(days=1)

    assert sender.run_once(now=next_run - dt.timedelta(seconds=1)) == 0
    assert sender.run_once(now=next_run + dt.timedelta(seconds=1)) == 1
    assert delivery.Sender(world.rt, settings(smtp.port)).run_once(now=next_run + dt.timedelta(hours=1)) == 0  # fmt: skip
    [digest] = smtp.mailbox.to(address(world, "mentee"))
    assert digest["Subject"] == f"Your {INSTITUTION} mentorship digest: 1 update(s)"
    assert (
        "You are enrolled in Resident Peer Mentoring" in digest.get_body(("plain",)).get_content()
    )
    assert deliveries_by_channel(world, "digest") == {"sent"}
    with world.rt.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rm.digests)).scalar_one() == 0
    assert len(stored(world, "DigestSent")) == 1


def deliveries_by_channel(world, channel: str) -> set[str]:
    with world.rt.reading() as conn:
        d = rm.deliveries
        return set(conn.execute(sa.select(d.c.state).where(d.c.channel == channel)).scalars())


def test_events_arriving_before_what_they_refer_to_wait_for_it(world, smtp):
    """Streams sit on different partitions: an enrollment can arrive before its person, program
    and institution. The notification waits for them instead of going out incomplete."""
    smtp.start()
    deliver(SERVICE, world.rt, list(reversed(world.events)))
    deliver(SERVICE, world.rt, world.events)  # and then again, in order
    assert delivery.Sender(world.rt, settings(smtp.port)).run_once() == 2
    [mail] = smtp.mailbox.to(address(world, "mentee"))
    text = mail.get_body(("plain",)).get_content()
    assert "Dear Sam Mentee" in text and GUIDELINES in text and INSTITUTION in text
    with world.rt.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rm.waiting)).scalar_one() == 0
