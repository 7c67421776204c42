"""Meetings on request through the real broker: enrollment → pairing → feedback (and
notifications, mailing a real SMTP server), each service's worker on the embedded broker. A mentee
proposes times offered from both availability grids in the institution's time zone, the mentor
accepts one; the request's rules hold over HTTP with field errors."""

from __future__ import annotations

import datetime as dt
import types
from zoneinfo import ZoneInfo

import pytest

from services.enrollment.service import SERVICE as ENROLLMENT
from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant
from services.eventkit.migrations import upgrade
from services.eventkit.worker import Worker
from services.feedback.app import create_app as feedback_app
from services.feedback.service import SERVICE as FEEDBACK
from services.notifications.domain.invitations import parse
from services.notifications.service import SERVICE as NOTIFICATIONS
from services.notifications.timers import Timers
from services.pairing.app import create_app as pairing_app
from services.pairing.service import SERVICE as PAIRING
from support import SmtpServer, auth_headers, wait_until

pytestmark = pytest.mark.kafka

ZONE = "America/Chicago"


@pytest.fixture
def mail(monkeypatch):
    server = SmtpServer()
    server.start()
    for name, value in {
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none",
        "SMTP_FROM": "Tandem <tandem@example.org>", "NOTIFY_POLL_S": "0.05",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


@pytest.fixture
def flow(topic_prefix, client, admin, database_url, request, tmp_path, kafka_bootstrap, mail):
    """A published pair (a mentee free on Wednesday afternoons and Thursday mornings, a mentor
    on Wednesday afternoons) in an institution on Chicago time, learnt by feedback from the
    broker."""

    def db(name):
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / name}.db"
        return request.getfixturevalue("pg_database_factory")(name)

    urls = {"pairing": db("pairing"), "feedback": db("feedback"), "notify": db("notify")}
    upgrade(PAIRING.migrations, urls["pairing"])
    upgrade(FEEDBACK.migrations, urls["feedback"])
    upgrade(NOTIFICATIONS.migrations, urls["notify"])
    workers = [
        Worker(ENROLLMENT, database_url, kafka_bootstrap),
        Worker(PAIRING, urls["pairing"], kafka_bootstrap),
        Worker(FEEDBACK, urls["feedback"], kafka_bootstrap),
        Worker(NOTIFICATIONS, urls["notify"], kafka_bootstrap),
    ]
    for worker in workers:
        worker.start()
    pairing = pairing_app(urls["pairing"]).test_client()
    feedback = feedback_app(urls["feedback"]).test_client()
    try:
        inst = client.post(
            "/api/institutions",
            json={"name": "Lakeside", "short_code": "LS", "time_zone": ZONE},
            headers=admin,
        ).json
        program = client.post(
            f"/api/institutions/{inst['id']}/programs",
            json={"name": "Peer", "program_type": "resident_peer_mentoring"},
            headers=admin,
        ).json
        cycle = client.post(
            f"/api/programs/{program['id']}/cycles", json={"name": "2026-27"}, headers=admin
        ).json
        people = {}
        for name, role, level, slots in (
            ("mentor", "mentor", "PGY5", ["wed-pm"]),
            ("mentee", "mentee", "PGY1", ["wed-pm", "thu-am"]),
        ):
            person = client.post(
                "/api/people",
                json={"institution_id": inst["id"], "name": f"Ms {name.title()}",
                      "email": f"{name}@ls.org", "training_level": level},
                headers=admin,
            ).json  # fmt: skip
            body = {"person_id": person["id"], "role": role, "availability": slots}
            body |= {"capacity": 1} if role == "mentor" else {}
            enrolled = client.post(
                f"/api/cycles/{cycle['id']}/enrollments", json=body, headers=admin
            )
            assert enrolled.status_code == 201, enrolled.json
            people[name] = person
        coordinator = auth_headers(Grant(COORDINATOR, inst["id"]), user="coord")

        def pool_complete() -> bool:
            found = pairing.get(f"/api/cycles/{cycle['id']}/candidates", headers=coordinator)
            return found.status_code == 200 and len(found.json) == 2

        wait_until(pool_complete, timeout_s=60)
        run = pairing.post(
            f"/api/cycles/{cycle['id']}/runs", json={"algorithm": "optimal"}, headers=coordinator
        )
        assert run.status_code == 201, run.json
        published = pairing.post(f"/api/cycles/{cycle['id']}/proposal/publish", headers=coordinator)
        assert published.status_code == 200, published.json
        headers = {
            "mentee": auth_headers(Grant(MENTEE, inst["id"], program["id"]), user=people["mentee"]["id"]),
            "mentor": auth_headers(Grant(MENTOR, inst["id"], program["id"]), user=people["mentor"]["id"]),
            "stranger": auth_headers(Grant(MENTEE, inst["id"], program["id"]), user="stranger"),
        }  # fmt: skip
        pairs = wait_until(
            lambda: feedback.get("/api/me/pairs", headers=headers["mentee"]).json, timeout_s=60
        )
        yield types.SimpleNamespace(
            feedback=feedback, pair_id=pairs[0]["pair_id"], headers=headers, people=people,
            workers=workers, mail=mail, inst=inst,
        )  # fmt: skip
    finally:
        for worker in workers:
            worker.shutdown()


def _suggested(flow) -> list[dt.datetime]:
    def offered():
        body = flow.feedback.get(
            f"/api/pairs/{flow.pair_id}/meeting-times", headers=flow.headers["mentee"]
        ).json
        return body if body["times"] else None

    body = wait_until(offered, timeout_s=30)
    assert body["time_zone"] == ZONE
    return [dt.datetime.fromisoformat(t) for t in body["times"]]


def propose(flow, options, by="mentee", **extra):
    body = {"options": options, "duration_minutes": 45, "mode": "virtual",
            "place": "https://video.example/room-7", "note": "Residency applications", **extra}  # fmt: skip
    return flow.feedback.post(
        f"/api/pairs/{flow.pair_id}/meeting-requests", json=body, headers=flow.headers[by]
    )


def test_a_mentee_requests_times_from_both_grids_and_the_mentor_accepts_one(flow):
    times = _suggested(flow)
    chicago = ZoneInfo(ZONE)
    # Shared Wednesday afternoons first, at 14:00 Chicago time.
    assert [(t.weekday(), t.hour) for t in times[:2]] == [(2, 14), (2, 14)]
    assert all(t.utcoffset() == t.astimezone(chicago).utcoffset() for t in times)

    # Local times without an offset are the institution's.
    local = [t.replace(tzinfo=None).isoformat() for t in times[:2]]
    made = propose(flow, local)
    assert made.status_code == 201, made.json
    request = made.json
    assert request["status"] == "pending" and request["time_zone"] == ZONE
    assert request["options"][0].startswith(times[0].astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M"))

    assert propose(flow, local, by="stranger").status_code == 403
    own = flow.feedback.post(
        f"/api/meeting-requests/{request['request_id']}/accept",
        json={"starts_at": local[1]}, headers=flow.headers["mentee"],
    )  # fmt: skip
    assert own.status_code == 422 and "request_id" in own.json["errors"]["json"]

    accepted = flow.feedback.post(
        f"/api/meeting-requests/{request['request_id']}/accept",
        json={"starts_at": local[1]}, headers=flow.headers["mentor"],
    )  # fmt: skip
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["status"] == "scheduled" and accepted.json["sequence"] == 0
    assert accepted.json["starts_at"] == request["options"][1]
    again = flow.feedback.post(
        f"/api/meeting-requests/{request['request_id']}/decline",
        json={"note": "no"}, headers=flow.headers["mentor"],
    )  # fmt: skip
    assert again.status_code == 422 and "request_id" in again.json["errors"]["json"]
    listed = flow.feedback.get(
        f"/api/pairs/{flow.pair_id}/meeting-requests", headers=flow.headers["mentor"]
    ).json
    assert [r["status"] for r in listed] == ["scheduled"]


def test_field_errors_for_past_too_many_and_unknown_times(flow):
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    refused = propose(flow, [past])
    assert refused.status_code == 422 and "options" in refused.json["errors"]["json"]
    soon = [(dt.datetime.now(dt.UTC) + dt.timedelta(days=d)).isoformat() for d in (1, 2, 3, 4)]
    assert "options" in propose(flow, soon).json["errors"]["json"]
    assert "options" in propose(flow, []).json["errors"]["json"]
    assert "mode" in propose(flow, soon[:1], mode="carrier pigeon").json["errors"]["json"]
    made = propose(flow, soon[:2]).json
    wrong = flow.feedback.post(
        f"/api/meeting-requests/{made['request_id']}/accept",
        json={"starts_at": soon[2]}, headers=flow.headers["mentor"],
    )  # fmt: skip
    assert wrong.status_code == 422 and "starts_at" in wrong.json["errors"]["json"]
    declined = flow.feedback.post(
        f"/api/meeting-requests/{made['request_id']}/decline",
        json={"note": "On nights that week"}, headers=flow.headers["mentor"],
    )  # fmt: skip
    assert declined.json["status"] == "declined"
    assert declined.json["answer_note"] == "On nights that week"


def _mails(flow, address: str, subject: str) -> list:
    return [m for m in flow.mail.mailbox.to(address) if m["Subject"].startswith(subject)]


def _calendars(flow, address: str) -> list[dict]:
    """The calendar invitations mailed to `address`, each as its METHOD and its event's lines."""
    found = []
    for message in flow.mail.mailbox.to(address):
        for part in message.iter_attachments():
            if part.get_content_type() == "text/calendar":
                lines = parse(part.get_content())
                found.append({
                    "method": part.get_param("method"), "subject": message["Subject"],
                    "lines": lines, **{name: value for name, _, value in lines},
                    "params": {name: params for name, params, _ in lines},
                    "attendees": sorted(v for n, _, v in lines if n == "ATTENDEE"),
                })  # fmt: skip
    return found


def test_the_invitation_reaches_every_attendee_and_follows_the_meeting(flow):
    mentee, mentor = flow.people["mentee"]["email"], flow.people["mentor"]["email"]
    times = _suggested(flow)
    made = propose(flow, [t.isoformat() for t in times[:2]]).json
    # The mentor is asked to choose, by email.
    asked = wait_until(lambda: _mails(flow, mentor, "Ms Mentee asks to meet"), timeout_s=60)
    assert asked[0]["Subject"] == "Ms Mentee asks to meet: choose a time"
    assert times[0].strftime("%a %d %b %Y, 14:00") in asked[0].get_body(("plain",)).get_content()

    url = f"/api/meeting-requests/{made['request_id']}"
    accepted = flow.feedback.post(
        f"{url}/accept", json={"starts_at": times[0].isoformat()}, headers=flow.headers["mentor"]
    )
    assert accepted.status_code == 200, accepted.json
    for address in (mentee, mentor):
        [invite] = wait_until(lambda a=address: _calendars(flow, a), timeout_s=60)
        assert invite["method"] == invite["METHOD"] == "REQUEST"
        assert invite["UID"] == f"meeting-request-{made['request_id']}@tandem.invalid"
        assert invite["SEQUENCE"] == "0" and invite["STATUS"] == "CONFIRMED"
        assert invite["params"]["DTSTART"]["TZID"] == ZONE
        assert invite["DTSTART"] == times[0].strftime("%Y%m%dT140000")
        assert invite["DTEND"] == times[0].strftime("%Y%m%dT144500")
        assert invite["TZID"] == ZONE
        assert invite["ORGANIZER"] == f"mailto:{mentee}"
        assert invite["attendees"] == sorted([f"mailto:{mentee}", f"mailto:{mentor}"])
        assert invite["LOCATION"] == "https://video.example/room-7"
        assert invite["subject"].startswith("Meeting set: ")

    # Moved: the same UID, SEQUENCE 1, the new time.
    moved = flow.feedback.post(
        f"{url}/reschedule",
        json={"starts_at": times[1].isoformat()},
        headers=flow.headers["mentee"],
    )
    assert moved.status_code == 200 and moved.json["sequence"] == 1, moved.json
    update = wait_until(lambda: _calendars(flow, mentor)[1:], timeout_s=60)[0]
    assert update["METHOD"] == "REQUEST" and update["SEQUENCE"] == "1"
    assert update["UID"] == f"meeting-request-{made['request_id']}@tandem.invalid"
    assert update["DTSTART"] == times[1].strftime("%Y%m%dT140000")

    # The day before, the timer loop reminds both.
    notify = flow.workers[-1].runtime
    before = times[1].astimezone(dt.UTC) - dt.timedelta(hours=23)
    assert Timers(notify, clock=lambda: before).run_once() == 2
    assert Timers(notify, clock=lambda: before).run_once() == 0  # taken once
    reminded = wait_until(lambda: _mails(flow, mentee, "Reminder"), timeout_s=60)
    assert "tomorrow" in reminded[0]["Subject"]

    # Cancelled: METHOD:CANCEL, SEQUENCE 2, to both.
    cancelled = flow.feedback.post(f"{url}/cancel", headers=flow.headers["mentor"])
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    for address in (mentee, mentor):
        cancel = wait_until(lambda a=address: _calendars(flow, a)[2:], timeout_s=60)[0]
        assert cancel["method"] == cancel["METHOD"] == "CANCEL"
        assert cancel["SEQUENCE"] == "2" and cancel["STATUS"] == "CANCELLED"
        assert cancel["UID"] == f"meeting-request-{made['request_id']}@tandem.invalid"
