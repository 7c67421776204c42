"""Invitations on the coordinator's schedule, from real enrollment events to a real SMTP server:
invited now (at a steady rate), at a set time (nothing before it), or only when the coordinator
asks; on SQLite and PostgreSQL, and through the real broker with the workers' own threads."""

from __future__ import annotations

import datetime as dt
import io
import types

import pytest
import sqlalchemy as sa
import test_notifications_delivery as base
from test_broker_flows import mail  # noqa: F401 (a fixture)

from services.enrollment.service import SERVICE as ENROLLMENT
from services.eventkit.auth import COORDINATOR, Grant
from services.eventkit.envelope import utcnow
from services.eventkit.migrations import upgrade
from services.eventkit.worker import Worker
from services.notifications import delivery
from services.notifications import readmodels as rm
from services.notifications.app import create_app
from services.notifications.inviting import Inviter
from services.notifications.readmodels.invitations import of_cycle
from services.notifications.service import SERVICE as NOTIFICATIONS
from support import auth_headers, deliver, wait_until

smtp = base.smtp  # fixture
HOUR = dt.timedelta(hours=1)


def _post(client, headers, url, body, status=201):
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == status, response.json
    return response.json


def _cycle(client, admin, short_code: str = "NW") -> dict:
    inst = _post(client, admin, "/api/institutions",
                 {"name": "Northwind", "short_code": short_code, "time_zone": "America/Chicago"})  # fmt: skip
    program = _post(client, admin, f"/api/institutions/{inst['id']}/programs",
                    {"name": "Peer", "program_type": "resident_peer_mentoring"})  # fmt: skip
    cycle = _post(client, admin, f"/api/programs/{program['id']}/cycles", {"name": "2026-27"})
    return {**cycle, "coordinator": auth_headers(Grant(COORDINATOR, inst["id"]), user="coord")}


def _enroll(client, admin, cycle, name: str, invitation: dict | None) -> dict:
    person = _post(client, admin, "/api/people", {
        "institution_id": cycle["institution_id"], "name": name,
        "email": f"{name.lower()}@northwind.example", "training_level": "PGY1",
    })  # fmt: skip
    body = {"person_id": person["id"], "role": "mentee", "invitation": invitation}
    enrolled = _post(client, cycle["coordinator"], f"/api/cycles/{cycle['id']}/enrollments", body)
    return {**person, "enrollment_id": enrolled["id"]}


@pytest.fixture
def notifications(database_url, request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'notifications.db'}"
        if database_url.startswith("sqlite")
        else request.getfixturevalue("pg_database_factory")("invite")
    )
    upgrade(NOTIFICATIONS.migrations, url)
    app = create_app(url)
    yield types.SimpleNamespace(url=url, rt=app.extensions["tandem"], api=app.test_client())
    app.extensions["tandem"].engine.dispose()


def _events(enrollment_app) -> list:
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        return [e for _, e in source.store.read_all(conn)]


def _invited(rt) -> set[str]:
    """Whom an "enrolled" notice was queued for."""
    n = rm.notifications
    with rt.reading() as conn:
        return set(
            conn.execute(sa.select(n.c.recipient_id).where(n.c.kind == "enrolled")).scalars()
        )


def test_each_choice_is_honoured_and_sent_once(client, admin, enrollment_app, notifications, smtp):
    cycle = _cycle(client, admin)
    start = utcnow()
    at = start + 24 * HOUR
    now = _enroll(client, admin, cycle, "Nora", {"mode": "now"})
    later = _enroll(client, admin, cycle, "Lars", {"mode": "at", "invite_at": at.isoformat()})
    manual = _enroll(client, admin, cycle, "Mani", {"mode": "manual"})
    told = _enroll(client, admin, cycle, "Tess", None)  # no choice: told at once, as ever
    rt = notifications.rt
    deliver(NOTIFICATIONS, rt, _events(enrollment_app))
    assert _invited(rt) == {told["id"]}  # the others wait for the inviter

    inviter = Inviter(rt, poll_s=1, per_minute=60)  # one a round
    assert inviter.run_once(start + HOUR) == 1
    assert inviter.run_once(start + HOUR) == 0
    assert _invited(rt) == {told["id"], now["id"]}
    assert inviter.run_once(at - dt.timedelta(seconds=1)) == 0  # nothing before the time
    assert inviter.run_once(at) == 1
    assert inviter.run_once(at + 100 * HOUR) == 0  # manual: nothing until asked
    assert _invited(rt) == {told["id"], now["id"], later["id"]}

    listed = notifications.api.get(
        f"/api/cycles/{cycle['id']}/invitations", headers=cycle["coordinator"]
    )
    assert listed.status_code == 200, listed.json
    states = {i["person_id"]: i["state"] for i in listed.json}
    assert states == {told["id"]: "invited", now["id"]: "invited", later["id"]: "invited",
                      manual["id"]: "manual"}  # fmt: skip
    # A page of the roster asks for its own people's only.
    some = notifications.api.get(
        f"/api/cycles/{cycle['id']}/invitations",
        query_string=[("enrollment_id", manual["enrollment_id"]), ("enrollment_id", now["enrollment_id"])],
        headers=cycle["coordinator"],
    )  # fmt: skip
    assert {i["person_id"]: i["state"] for i in some.json} == {
        manual["id"]: "manual", now["id"]: "invited"}  # fmt: skip
    too_many = notifications.api.get(
        f"/api/cycles/{cycle['id']}/invitations",
        query_string=[("enrollment_id", str(n)) for n in range(101)],
        headers=cycle["coordinator"],
    )
    assert too_many.status_code == 422 and "enrollment_id" in too_many.json["errors"]["query"]

    asked = _post(
        client, cycle["coordinator"], f"/api/cycles/{cycle['id']}/invitations",
        {"enrollment_ids": [manual["enrollment_id"], now["enrollment_id"]], "mode": "now"}, 200,
    )  # fmt: skip
    assert asked == {"scheduled": 2}
    deliver(NOTIFICATIONS, rt, _events(enrollment_app))
    assert inviter.run_once(at + 101 * HOUR) == 1  # the one not yet invited; no one twice
    assert inviter.run_once(at + 101 * HOUR) == 0

    smtp.start()
    assert delivery.Sender(rt, base.settings(smtp.port)).run_once() == 4
    for person in (now, later, manual, told):
        (message,) = smtp.mailbox.to(person["email"])
        assert message["Subject"] == "You are enrolled in Peer"


def test_the_rate_is_steady(client, admin, enrollment_app, notifications):
    cycle = _cycle(client, admin)
    for n in range(7):
        _enroll(client, admin, cycle, f"Ira{n}", {"mode": "now"})
    deliver(NOTIFICATIONS, notifications.rt, _events(enrollment_app))
    inviter = Inviter(notifications.rt, poll_s=30, per_minute=6)  # three a round
    later = utcnow() + HOUR
    assert [inviter.run_once(later) for _ in range(4)] == [3, 3, 1, 0]


def test_a_choice_needs_its_time(client, admin):
    cycle = _cycle(client, admin)
    person = _post(client, admin, "/api/people", {
        "institution_id": cycle["institution_id"], "name": "Ann", "email": "ann@x.example",
        "training_level": "PGY1",
    })  # fmt: skip
    refused = client.post(
        f"/api/cycles/{cycle['id']}/enrollments",
        json={"person_id": person["id"], "role": "mentee", "invitation": {"mode": "at"}},
        headers=cycle["coordinator"],
    )
    assert refused.status_code == 422
    assert "invite_at" in refused.json["errors"]["json"]["invitation"]


@pytest.mark.kafka
def test_a_roster_invited_at_a_time_through_the_broker(
    topic_prefix, client, admin, enrollment_app, database_url, kafka_bootstrap, mail,  # noqa: F811
    notifications, monkeypatch,
):  # fmt: skip
    """The roster's people are invited at the time chosen, not before; those left for later
    only when the coordinator asks."""
    monkeypatch.setenv("NOTIFY_INVITE_POLL_S", "0.2")
    cycle = _cycle(client, admin)
    relay = Worker(ENROLLMENT, database_url, kafka_bootstrap)
    worker = Worker(NOTIFICATIONS, notifications.url, kafka_bootstrap)
    relay.start()
    worker.start()
    try:
        manual = _enroll(client, admin, cycle, "Mo", {"mode": "manual"})
        roster = "name,email,role,training_level\n" + "".join(
            f"Ro {n},ro{n}@northwind.example,mentee,PGY1\n" for n in range(3)
        )
        preview = client.post(
            f"/api/cycles/{cycle['id']}/roster/preview",
            data={"file": (io.BytesIO(roster.encode()), "roster.csv")},
            headers=cycle["coordinator"], content_type="multipart/form-data",
        ).json  # fmt: skip
        at = utcnow() + dt.timedelta(seconds=8)
        applied = _post(client, cycle["coordinator"], f"/api/cycles/{cycle['id']}/roster/apply", {
            "file_sha256": preview["file_sha256"], "plan": preview["plan"],
            "invitation": {"mode": "at", "invite_at": at.isoformat()},
        }, 200)  # fmt: skip
        assert applied["people_registered"] == 3
        rt = worker.runtime

        def scheduled() -> bool:
            with rt.reading() as conn:
                rows = of_cycle(conn, cycle["id"])
            return sum(r["state"] == "scheduled" for r in rows) == 3

        wait_until(scheduled, timeout_s=30)
        assert utcnow() < at and mail.mailbox.messages == []  # nothing before the time
        wait_until(lambda: len(mail.mailbox.messages) == 3, timeout_s=60)
        assert utcnow() >= at
        assert {m["To"] for m in mail.mailbox.messages} == {
            f"ro{n}@northwind.example" for n in range(3)
        }
        assert mail.mailbox.to(manual["email"]) == []  # not asked for yet
        _post(client, cycle["coordinator"], f"/api/cycles/{cycle['id']}/invitations",
              {"enrollment_ids": [manual["enrollment_id"]], "mode": "now"}, 200)  # fmt: skip
        wait_until(lambda: len(mail.mailbox.to(manual["email"])) == 1, timeout_s=60)
    finally:
        worker.shutdown()
        relay.shutdown()
