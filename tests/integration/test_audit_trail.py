"""The consortium audit trail kept by enrollment (GET /api/trail, /api/trail.csv, POST
/api/access-events) on SQLite and PostgreSQL: entries from every service's events, scoped to the
reader's institution or program, filtered, paged without gaps or repeats, the CSV export recorded,
and no confidential text anywhere."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from services.enrollment.readmodels import trail
from services.enrollment.service import SERVICE
from services.eventkit.auth import COORDINATOR, MENTEE, Grant, system_principal
from services.eventkit.envelope import Envelope
from support import auth_headers, deliver

SECRET = "SECRET-CONCERN-TEXT the mentor shouted"
NOTES = "PRIVATE-MEETING-NOTES about a family matter"
ANSWER = "FREE-TEXT-ANSWER nobody else reads"


def _event(event_type, stream, payload, institution, actor="someone", role="mentee", at=None):
    return Envelope(
        event_id=str(uuid.uuid4()),
        event_type=event_type,
        schema_version=2 if event_type in ("NotificationQueued",) else 1,
        stream_id=stream,
        stream_version=1,
        institution_id=institution,
        actor={"id": actor, "role": role},
        occurred_at=at or dt.datetime.now(dt.UTC),
        correlation_id=str(uuid.uuid4()),
        causation_id=None,
        payload=payload,
    )


@pytest.fixture
def world(client, admin, enrollment_app):
    """Two institutions; A has programs P and Q with a cycle each, B one program. Every
    service's events for them reach the trail as the worker would deliver them."""

    def post(url, body, headers=admin):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 201, response.json
        return response.json

    a = post("/api/institutions", {"name": "Northfield", "short_code": "NUH", "time_zone": "UTC"})
    b = post("/api/institutions", {"name": "Lakeside", "short_code": "LSM", "time_zone": "UTC"})
    kind = {"program_type": "resident_peer_mentoring"}
    p = post(f"/api/institutions/{a['id']}/programs", {"name": "P", **kind})
    q = post(f"/api/institutions/{a['id']}/programs", {"name": "Q", **kind})
    r = post(f"/api/institutions/{b['id']}/programs", {"name": "R", **kind})
    cp = post(f"/api/programs/{p['id']}/cycles", {"name": "P-1"})
    cq = post(f"/api/programs/{q['id']}/cycles", {"name": "Q-1"})
    cr = post(f"/api/programs/{r['id']}/cycles", {"name": "R-1"})
    mentee = post(
        "/api/people",
        {"institution_id": a["id"], "name": "Mia", "email": "mia@nf.example", "training_level": "PGY1"},
    )  # fmt: skip
    pair, concern = str(uuid.uuid4()), str(uuid.uuid4())
    rt = enrollment_app.extensions["tandem"]
    with rt.reading() as conn:
        own = [event for _, event in rt.store.read_all(conn)]
    ia, ib = a["id"], b["id"]
    others = [
        _event("PairCreated", f"pair-{pair}", {"pair_id": pair, "cycle_id": cp["id"], "run_id": "r",
               "mentee_id": mentee["id"], "mentor_id": "m1", "score": 1.0}, ia, "coord", "coordinator"),
        _event("MeetingLogged", f"meeting-{uuid.uuid4()}", {
            "meeting_id": str(uuid.uuid4()), "pair_id": pair, "cycle_id": cp["id"],
            "logged_by": mentee["id"], "date": "2026-11-01", "duration_minutes": 30,
            "mode": "virtual", "topics": ["family"], "notes": NOTES}, ia, mentee["id"]),
        _event("ConcernRaised", f"concern-{concern}", {
            "concern_id": concern, "pair_id": pair, "cycle_id": cp["id"], "raised_by": mentee["id"],
            "raiser_role": "mentee", "kind": "boundary", "text": SECRET, "parties": ["m1"],
            "ack_due": "2026-12-01T00:00:00Z"}, ia, mentee["id"]),
        # Names only the concern: its program is known from the concern raised before.
        _event("ConcernAcknowledged", f"concern-{concern}", {"concern_id": concern,
               "acknowledged_by": "coord"}, ia, "coord", "coordinator"),
        _event("ConfidentialRecordViewed", f"concern-access-{concern}", {"concern_id": concern,
               "viewer_id": "coord", "viewer_role": "coordinator"}, ia, "coord", "coordinator"),
        _event("SurveyAnswered", f"survey-response-{uuid.uuid4()}", {"instance_id": "i",
               "person_id": mentee["id"], "revision": 1, "answers": {"q": ANSWER}}, ia, mentee["id"]),
        _event("PairCreated", f"pair-{uuid.uuid4()}", {"pair_id": "other", "cycle_id": cq["id"],
               "run_id": "r", "mentee_id": "x", "mentor_id": "y", "score": 1.0}, ia, "coord-q", "coordinator"),
        _event("PairCreated", f"pair-{uuid.uuid4()}", {"pair_id": "b-pair", "cycle_id": cr["id"],
               "run_id": "r", "mentee_id": "x", "mentor_id": "y", "score": 1.0}, ib, "coord-b", "coordinator"),
        _event("NotificationQueued", f"notification-{uuid.uuid4()}", {
            "notification_id": "n", "recipient_id": mentee["id"], "kind": "concern_raised",
            "subject": "S", "body": SECRET, "email": "mia@nf.example", "channels": ["email"],
            "source_event_id": "e"}, ia, "system", "system"),
    ]  # fmt: skip
    deliver(SERVICE, rt, own)
    deliver(SERVICE, rt, others, topic="tandem.feedback.v1")
    deliver(SERVICE, rt, [*own, *others])  # repeats are skipped by the inbox
    return {
        "a": ia, "b": ib, "p": p["id"], "q": q["id"], "r": r["id"], "cycle_p": cp["id"],
        "concern": concern, "mentee": mentee["id"], "events": len(own) + len(others),
    }  # fmt: skip


def _pages(client, headers, **params) -> tuple[list[dict], int]:
    entries, cursor, pages = [], None, 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/api/trail", query_string=query, headers=headers)
        assert response.status_code == 200, response.json
        pages += 1
        entries.extend(response.json["entries"])
        cursor = response.json["next_cursor"]
        if cursor is None:
            return entries, pages


def test_every_services_events_become_one_entry_each(client, admin, world):
    entries, _ = _pages(client, admin, limit=200)
    assert len(entries) == world["events"]
    assert {e["service"] for e in entries} == {"enrollment", "pairing", "feedback", "notifications"}
    viewed = next(e for e in entries if e["event_type"] == "ConfidentialRecordViewed")
    assert viewed["program_id"] == world["p"] and viewed["institution_id"] == world["a"]
    assert viewed["actor_id"] == "coord" and viewed["actor_role"] == "coordinator"
    assert viewed["summary"] == {
        "concern_id": world["concern"], "viewer_id": "coord", "viewer_role": "coordinator"
    }  # fmt: skip
    acknowledged = next(e for e in entries if e["event_type"] == "ConcernAcknowledged")
    assert acknowledged["program_id"] == world["p"]  # resolved through the concern
    assert acknowledged["entity_type"] == "concern"
    assert acknowledged["entity_id"] == world["concern"] and acknowledged["correlation_id"]
    logged = next(e for e in entries if e["event_type"] == "MeetingLogged")
    assert logged["summary"]["duration_minutes"] == 30 and "notes" not in logged["summary"]


def test_no_confidential_text_reaches_the_trail(client, admin, world, enrollment_app):
    body = client.get("/api/trail?limit=200", headers=admin).get_data(as_text=True)
    csv_body = client.get("/api/trail.csv", headers=admin).get_data(as_text=True)
    rt = enrollment_app.extensions["tandem"]
    with rt.reading() as conn:
        stored = " ".join(str(dict(r)) for r in conn.execute(sa.select(trail.entries)).mappings())
    for text in (body, csv_body, stored):
        for secret in (SECRET, NOTES, ANSWER, "boundary", "family", "mia@nf.example"):
            assert secret not in text


def test_pages_have_no_gaps_or_repeats(client, admin, world):
    entries, pages = _pages(client, admin, limit=3)
    assert pages == -(-world["events"] // 3) or pages == -(-world["events"] // 3) + 1
    keys = [(e["occurred_at"], e["id"]) for e in entries]
    assert keys == sorted(keys, reverse=True)
    assert len({e["event_id"] for e in entries}) == len(entries) == world["events"]


def test_filters(client, admin, world):
    def only(**params):
        entries, _ = _pages(client, admin, limit=50, **params)
        return entries

    assert {e["institution_id"] for e in only(institution_id=world["b"])} == {world["b"]}
    assert {e["program_id"] for e in only(program_id=world["q"])} == {world["q"]}
    assert {e["actor_id"] for e in only(actor="coord")} == {"coord"}
    assert {e["event_type"] for e in only(event_type="PairCreated")} == {"PairCreated"}
    assert len(only(event_type="PairCreated")) == 3
    assert {e["service"] for e in only(service="feedback")} == {"feedback"}
    about = only(entity_id=world["concern"])
    assert {e["event_type"] for e in about} == {
        "ConcernRaised", "ConcernAcknowledged", "ConfidentialRecordViewed"
    }  # fmt: skip
    today = dt.datetime.now(dt.UTC).date()
    assert len(only(since=today.isoformat(), until=today.isoformat())) == world["events"]
    assert only(until=(today - dt.timedelta(days=1)).isoformat()) == []
    assert client.get("/api/trail?cursor=nonsense", headers=admin).status_code == 422
    assert client.get("/api/trail?limit=201", headers=admin).status_code == 422


def test_program_coordinator_sees_only_their_program(client, world):
    coordinator_p = auth_headers(Grant(COORDINATOR, world["a"], world["p"]), user="coord-p")
    entries, _ = _pages(client, coordinator_p, limit=50)
    assert entries and {e["program_id"] for e in entries} == {world["p"]}
    refused = client.get(f"/api/trail?program_id={world['q']}", headers=coordinator_p)
    assert refused.status_code == 403
    refused = client.get(f"/api/trail?institution_id={world['b']}", headers=coordinator_p)
    assert refused.status_code == 403


def test_institution_coordinator_never_sees_another_institution(client, world):
    coordinator_a = auth_headers(Grant(COORDINATOR, world["a"]), user="coord-a")
    entries, _ = _pages(client, coordinator_a, limit=50)
    assert {e["institution_id"] for e in entries} == {world["a"]}
    assert {world["p"], world["q"]} <= {e["program_id"] for e in entries}
    assert (
        client.get(f"/api/trail?program_id={world['r']}", headers=coordinator_a).status_code == 403
    )
    csv_body = client.get("/api/trail.csv", headers=coordinator_a).get_data(as_text=True)
    assert world["b"] not in csv_body and world["a"] in csv_body


def test_participants_and_the_system_may_not_read_it(client, world):
    mentee = auth_headers(Grant(MENTEE, world["a"], world["p"]), user=world["mentee"])
    assert client.get("/api/trail", headers=mentee).status_code == 403
    assert client.get("/api/trail.csv", headers=mentee).status_code == 403
    system = auth_headers(*system_principal().grants, user="system")
    assert client.get("/api/trail", headers=system).status_code == 403


def test_the_csv_export_is_recorded(client, admin, world, enrollment_app):
    coordinator_a = auth_headers(Grant(COORDINATOR, world["a"]), user="coord-a")
    response = client.get(f"/api/trail.csv?program_id={world['p']}", headers=coordinator_a)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0].startswith("occurred_at,service,event_type")
    rt = enrollment_app.extensions["tandem"]
    with rt.reading() as conn:
        recorded = [e for _, e in rt.store.read_all(conn) if e.event_type == "AccessRecorded"]
    assert len(recorded) == 1
    export = recorded[0]
    assert export.payload["kind"] == "export" and export.payload["what"] == "audit trail"
    assert export.institution_id == world["a"] and export.actor["id"] == "coord-a"
    deliver(SERVICE, rt, recorded)
    found = client.get("/api/trail?event_type=AccessRecorded", headers=admin).json["entries"]
    assert [e["summary"]["kind"] for e in found] == ["export"]
    assert found[0]["program_id"] == world["p"]


def test_access_events_from_the_web(client, admin, world, enrollment_app):
    system = auth_headers(*system_principal().grants, user="system")

    def post(body, headers=system):
        return client.post("/api/access-events", json=body, headers=headers)

    assert (
        post({"kind": "sign_in", "person_id": world["mentee"], "method": "password"}).status_code
        == 201
    )
    assert post({"kind": "sign_in_failed", "email": "MIA@nf.example"}).status_code == 201
    assert post({"kind": "sign_in_failed", "email": "nobody@nowhere.example"}).status_code == 201
    assert (
        post({"kind": "password_link", "email": "mia@nf.example", "method": "reset"}).status_code
        == 201
    )
    assert post({"kind": "sign_in", "person_id": world["mentee"]}, admin).status_code == 403
    assert post({"kind": "teleport"}).status_code == 422
    rt = enrollment_app.extensions["tandem"]
    with rt.reading() as conn:
        recorded = [e for _, e in rt.store.read_all(conn) if e.event_type == "AccessRecorded"]
    deliver(SERVICE, rt, recorded)
    entries, _ = _pages(client, admin, event_type="AccessRecorded")
    by_kind = sorted((e["summary"]["kind"], e["institution_id"] or "") for e in entries)
    assert by_kind == [
        ("password_link", world["a"]), ("sign_in", world["a"]),
        ("sign_in_failed", ""), ("sign_in_failed", world["a"]),
    ]  # fmt: skip
    signed_in = next(e for e in entries if e["summary"]["kind"] == "sign_in")
    assert signed_in["actor_id"] == world["mentee"]
    unknown = next(e for e in entries if e["institution_id"] is None)
    assert len(unknown["summary"]["email_hash"]) == 32
    stored = str([e.to_dict() for e in recorded]) + client.get(
        "/api/trail.csv", headers=admin
    ).get_data(as_text=True)
    assert "nobody@nowhere.example" not in stored and "nowhere" not in stored
