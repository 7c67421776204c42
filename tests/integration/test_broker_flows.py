"""Notifications through the real broker: enrollment's relay publishes to Kafka, the notifications
worker (its real consumer and sender threads) mails a real SMTP server."""

import pytest
import sqlalchemy as sa

from services.enrollment.service import SERVICE as ENROLLMENT
from services.eventkit import config
from services.eventkit.migrations import upgrade
from services.eventkit.operations import republish
from services.eventkit.worker import Worker
from services.notifications import readmodels as rm
from services.notifications.service import SERVICE as NOTIFICATIONS
from support import SmtpServer, wait_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def mail(monkeypatch):
    server = SmtpServer()
    server.start()
    for name, value in {
        "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(server.port), "SMTP_SECURITY": "none",
        "SMTP_FROM": "Tandem <tandem@example.org>", "NOTIFY_RETRY_BASE_S": "0.2",
        "NOTIFY_POLL_S": "0.05", "NOTIFY_CLAIM_S": "2",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    yield server
    server.stop()


def _enroll(client, admin, institution_id, cycle_id, n):
    person = client.post(
        "/api/people",
        json={
            "institution_id": institution_id,
            "name": f"Intern {n}",
            "email": f"intern{n}@x.org",
            "training_level": "PGY1",
        },
        headers=admin,
    ).json
    response = client.post(
        f"/api/cycles/{cycle_id}/enrollments",
        json={"person_id": person["id"], "role": "mentee"},
        headers=admin,
    )
    assert response.status_code == 201, response.json
    return person["email"]


def test_enrollment_mail_once_through_the_broker_across_duplicates_outages_and_restarts(
    topic_prefix,
    client,
    admin,
    enrollment_app,
    database_url,
    request,
    tmp_path,
    kafka_bootstrap,
    mail,
):
    if database_url.startswith("sqlite"):
        notifications_url = f"sqlite:///{tmp_path / 'notifications.db'}"
    else:
        notifications_url = request.getfixturevalue("pg_database_factory")("notif")
    upgrade(NOTIFICATIONS.migrations, notifications_url)
    assert enrollment_app.extensions["tandem"].store.topic == config.topic("enrollment")
    relay = Worker(ENROLLMENT, database_url, kafka_bootstrap)
    notifications = Worker(NOTIFICATIONS, notifications_url, kafka_bootstrap)
    relay.start()
    notifications.start()
    try:
        inst = client.post(
            "/api/institutions",
            json={"name": "Northwind", "short_code": "NW", "time_zone": "UTC"},
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
        first = _enroll(client, admin, inst["id"], cycle["id"], 1)
        wait_until(lambda: len(mail.mailbox.to(first)) == 1, timeout_s=60)

        # Every enrollment event published again: the inbox drops them, nobody is mailed twice.
        assert republish(enrollment_app.extensions["tandem"]) > 0
        rt = notifications.runtime
        with rt.reading() as conn:
            before = conn.execute(
                sa.select(sa.func.count()).select_from(rt.service.tables.inbox)
            ).scalar_one()
        wait_until(lambda: _pending(relay) == 0, timeout_s=60)

        # The SMTP server goes away; a new enrollment waits, retried, and arrives once it is back.
        mail.stop()
        second = _enroll(client, admin, inst["id"], cycle["id"], 2)
        wait_until(lambda: _attempts(rt, second) >= 2, timeout_s=60)
        mail.start()
        wait_until(lambda: len(mail.mailbox.to(second)) == 1, timeout_s=60)

        # The notifications worker is replaced (stopped and a new one started on its database).
        notifications.shutdown()
        notifications = Worker(NOTIFICATIONS, notifications_url, kafka_bootstrap)
        notifications.start()
        third = _enroll(client, admin, inst["id"], cycle["id"], 3)
        wait_until(lambda: len(mail.mailbox.to(third)) == 1, timeout_s=60)
        with notifications.runtime.reading() as conn:
            after = conn.execute(
                sa.select(sa.func.count()).select_from(rt.service.tables.inbox)
            ).scalar_one()
        assert after > before
        assert [len(mail.mailbox.to(a)) for a in (first, second, third)] == [1, 1, 1]
        assert len(mail.mailbox.messages) == 3
    finally:
        notifications.shutdown()
        relay.shutdown()


def _pending(worker: Worker) -> int:
    outbox = worker.service.tables.outbox
    with worker.runtime.reading() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.state != "published")
        ).scalar_one()


def _attempts(rt, address: str) -> int:
    d = rm.deliveries
    with rt.reading() as conn:
        return (
            conn.execute(
                sa.select(sa.func.max(d.c.attempts)).where(d.c.to_address == address)
            ).scalar()
            or 0
        )


def test_feedback_learns_pairs_through_the_broker_and_guards_concerns(
    topic_prefix, client, admin, enrollment_app, database_url, request, tmp_path, kafka_bootstrap
):
    """Enrollment → pairing → feedback, each service's worker on the real broker; then the
    feedback API refuses a future meeting and keeps a concern from the mentor it names."""
    import datetime as dt

    from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant
    from services.feedback.app import create_app as feedback_app
    from services.feedback.service import SERVICE as FEEDBACK
    from services.pairing.app import create_app as pairing_app
    from services.pairing.service import SERVICE as PAIRING
    from support import auth_headers

    def db(name):
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / name}.db"
        return request.getfixturevalue("pg_database_factory")(name)

    urls = {"pairing": db("pairing"), "feedback": db("feedback")}
    upgrade(PAIRING.migrations, urls["pairing"])
    upgrade(FEEDBACK.migrations, urls["feedback"])
    workers = [
        Worker(ENROLLMENT, database_url, kafka_bootstrap),
        Worker(PAIRING, urls["pairing"], kafka_bootstrap),
        Worker(FEEDBACK, urls["feedback"], kafka_bootstrap),
    ]
    for worker in workers:
        worker.start()
    pairing = pairing_app(urls["pairing"]).test_client()
    feedback = feedback_app(urls["feedback"]).test_client()
    try:
        inst = client.post(
            "/api/institutions",
            json={"name": "Lakeside", "short_code": "LS", "time_zone": "UTC"},
            headers=admin,
        ).json
        other = client.post(
            "/api/institutions",
            json={"name": "Elsewhere", "short_code": "EW", "time_zone": "UTC"},
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
        ids = {}
        for name, level, role in (("mentor", "PGY5", "mentor"), ("mentee", "PGY1", "mentee")):
            person = client.post(
                "/api/people",
                json={
                    "institution_id": inst["id"],
                    "name": name,
                    "email": f"{name}@ls.org",
                    "training_level": level,
                },
                headers=admin,
            ).json
            body = {"person_id": person["id"], "role": role} | (
                {"capacity": 1} if role == "mentor" else {}
            )
            assert (
                client.post(
                    f"/api/cycles/{cycle['id']}/enrollments", json=body, headers=admin
                ).status_code
                == 201
            )
            ids[name] = person["id"]
        coordinator = auth_headers(Grant(COORDINATOR, inst["id"]), user="coord")

        def pool_complete() -> bool:  # the cycle and both candidates have arrived
            response = pairing.get(f"/api/cycles/{cycle['id']}/candidates", headers=coordinator)
            return response.status_code == 200 and len(response.json) == 2

        wait_until(pool_complete, timeout_s=60)
        assert (
            pairing.post(
                f"/api/cycles/{cycle['id']}/runs",
                json={"algorithm": "optimal"},
                headers=coordinator,
            ).status_code
            == 201
        )
        assert (
            pairing.post(
                f"/api/cycles/{cycle['id']}/proposal/publish", headers=coordinator
            ).status_code
            == 200
        )

        mentee = auth_headers(Grant(MENTEE, inst["id"], program["id"]), user=ids["mentee"])
        mentor = auth_headers(Grant(MENTOR, inst["id"], program["id"]), user=ids["mentor"])
        pairs = wait_until(lambda: feedback.get("/api/me/pairs", headers=mentee).json, timeout_s=60)
        pair_id = pairs[0]["pair_id"]
        future = (dt.date.today() + dt.timedelta(days=5)).isoformat()
        late = feedback.post(
            f"/api/pairs/{pair_id}/meetings",
            json={"date": future, "duration_minutes": 30, "mode": "virtual"},
            headers=mentee,
        )
        assert late.status_code == 422 and "date" in late.json["errors"]["json"]
        assert feedback.get(f"/api/pairs/{pair_id}/meetings", headers=mentee).json == []
        raised = feedback.post(
            f"/api/pairs/{pair_id}/concerns",
            json={"kind": "boundary", "text": "Private words"},
            headers=mentee,
        )
        assert raised.status_code == 201, raised.json
        concern = raised.json["concern_id"]
        assert feedback.get(f"/api/concerns/{concern}", headers=mentor).status_code == 404
        assert (
            feedback.get(
                f"/api/concerns/{concern}",
                headers=auth_headers(Grant(COORDINATOR, other["id"]), user="c2"),
            ).status_code
            == 404
        )
        read = feedback.get(f"/api/concerns/{concern}", headers=coordinator)
        assert read.status_code == 200 and read.json["text"] == "Private words"
        log = feedback.get(f"/api/concerns/{concern}/access-log", headers=coordinator).json
        assert [entry["viewer_id"] for entry in log] == ["coord"]
    finally:
        for worker in workers:
            worker.shutdown()
