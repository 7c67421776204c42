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
from services.pairing.app import create_app as pairing_app
from services.pairing.service import SERVICE as PAIRING
from support import auth_headers, wait_until

pytestmark = pytest.mark.kafka

ZONE = "America/Chicago"


@pytest.fixture
def flow(topic_prefix, client, admin, database_url, request, tmp_path, kafka_bootstrap):
    """A published pair (a mentee free on Wednesday afternoons and Thursday mornings, a mentor
    on Wednesday afternoons) in an institution on Chicago time, learnt by feedback from the
    broker."""

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
            workers=workers, kafka=kafka_bootstrap, urls=urls, inst=inst,
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
