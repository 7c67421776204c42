"""Feedback through HTTP on SQLite and PostgreSQL, fed by real enrollment events (through the
enrollment API) and real pairing events (a pairing app runs and publishes a proposal).

Meetings and objectives with their permissions, confidential concerns (who can and cannot read
them, the audit trail of reads, escalation), program health with suppression under 5 people, and
the de-identified export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading

import pytest
import sqlalchemy as sa

from services.eventkit.auth import ADMIN, COORDINATOR, MENTEE, MENTOR, SYSTEM, Grant
from services.eventkit.envelope import utcnow
from services.eventkit.migrations import upgrade
from services.feedback.app import create_app as create_feedback_app
from services.feedback.domain.outcomes import pseudonym
from services.feedback.service import SERVICE as FEEDBACK
from services.feedback.worker import concern_deadlines
from services.pairing.app import create_app as create_pairing_app
from services.pairing.service import SERVICE as PAIRING
from support import auth_headers, deliver, wait_until

TODAY = dt.date.today


class MovableClock:
    """The feedback app's (and a worker loop's) clock: now, until a test moves it on."""

    def __init__(self) -> None:
        self.at: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.at or utcnow()

    def move_to(self, when: dt.datetime) -> None:
        self.at = when


def _db(request, database_url, tmp_path, name):
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / name}.db"
    return request.getfixturevalue("pg_database_factory")(name)


@pytest.fixture
def world(client, admin, enrollment_app, request, database_url, tmp_path, monkeypatch):
    """Institution A: a big cycle (3 mentors of capacity 2, 6 mentees: 6 pairs) and a small cycle
    (1 mentor, 2 mentees); mentor 0 of the big cycle is also a coordinator of A. Institution B
    has its own coordinator. Pairs come from a real pairing run, published; feedback receives the
    pairing events before the enrollment events (streams arrive in any order)."""
    monkeypatch.setenv("FEEDBACK_EXPORT_KEY", "export-key-for-tests-0123456789abcdef")

    def post(url, body, status=201):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == status, response.json
        return response.json

    inst = post("/api/institutions", {"name": "A", "short_code": "A", "time_zone": "UTC"})
    other = post("/api/institutions", {"name": "B", "short_code": "B", "time_zone": "UTC"})
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "P", "program_type": "resident_peer_mentoring"},
    )
    people: dict[str, dict] = {}
    cycles = {}
    for tag, mentors, mentees in (("big", 3, 6), ("small", 1, 2), ("group", 1, 3)):
        shape = {"pairing_format": "group", "group_size": 3} if tag == "group" else {}
        cycle = post(
            f"/api/programs/{program['id']}/cycles",
            {"name": tag, "review_months": [6, 12], **shape},
        )
        cycles[tag] = cycle["id"]
        for role, count, level in (("mentor", mentors, "PGY5"), ("mentee", mentees, "PGY1")):
            for n in range(count):
                key = f"{tag}-{role}{n}"
                person = post(
                    "/api/people",
                    {
                        "institution_id": inst["id"],
                        "name": f"Name {key}",
                        "email": f"{key}@example.org",
                        "training_level": level,
                    },
                )
                people[key] = person
                body = {"person_id": person["id"], "role": role}
                if role == "mentor":
                    body["capacity"] = 3 if tag == "group" else 2
                post(f"/api/cycles/{cycle['id']}/enrollments", body)
    post(
        f"/api/people/{people['big-mentor0']['id']}/roles",
        {"role": "coordinator", "institution_id": inst["id"]},
        status=200,
    )

    coordinator = auth_headers(Grant(COORDINATOR, inst["id"]), user="coord-a")
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        enrollment_events = [e for _, e in source.store.read_all(conn)]

    pairing_url = _db(request, database_url, tmp_path, "pairing")
    upgrade(PAIRING.migrations, pairing_url)
    pairing_app = create_pairing_app(pairing_url)
    prt = pairing_app.extensions["tandem"]
    deliver(PAIRING, prt, enrollment_events)
    pc = pairing_app.test_client()
    pairs = {}
    for tag, cycle_id in cycles.items():
        algorithm = "groups" if tag == "group" else "stable"
        run = pc.post(
            f"/api/cycles/{cycle_id}/runs", json={"algorithm": algorithm}, headers=coordinator
        )
        assert run.status_code == 201, run.json
        published = pc.post(f"/api/cycles/{cycle_id}/proposal/publish", headers=coordinator)
        assert published.status_code == 200, published.json
        pairs[tag] = published.json
    with prt.reading() as conn:
        pairing_events = [e for _, e in prt.store.read_all(conn)]

    url = _db(request, database_url, tmp_path, "feedback")
    upgrade(FEEDBACK.migrations, url)
    clock = MovableClock()
    app = create_feedback_app(url, clock=clock)
    rt = app.extensions["tandem"]
    deliver(FEEDBACK, rt, pairing_events, topic="tandem.pairing.v1")  # before who they are
    deliver(FEEDBACK, rt, enrollment_events)

    by_id = {p["id"]: key for key, p in people.items()}

    def headers(key: str) -> dict:
        role = MENTOR if "mentor" in key else MENTEE
        grants = [Grant(role, inst["id"], program["id"])]
        if key == "big-mentor0":
            grants.append(Grant(COORDINATOR, inst["id"]))
        return auth_headers(*grants, user=people[key]["id"])

    def pair_of(mentor_key: str) -> dict:
        mentor_id = people[mentor_key]["id"]
        tag = mentor_key.split("-")[0]
        return next(p for p in pairs[tag] if p["mentor_id"] == mentor_id)

    def count(event_type: str | None = None) -> int:
        events = rt.service.tables.events
        query = sa.select(sa.func.count()).select_from(events)
        if event_type:
            query = query.where(events.c.event_type == event_type)
        with rt.reading() as conn:
            return conn.execute(query).scalar_one()

    yield {
        "client": app.test_client(), "rt": rt, "clock": clock, "people": people, "pairs": pairs, "cycles": cycles,
        "by_id": by_id, "headers": headers, "pair_of": pair_of, "count": count,
        "coordinator": coordinator,
        "outsider": auth_headers(Grant(COORDINATOR, other["id"]), user="coord-b"),
        "admin": auth_headers(Grant(ADMIN), user="admin-1"),
        "institution_id": inst["id"], "other_institution_id": other["id"],
        "program_id": program["id"],
    }  # fmt: skip
    rt.engine.dispose()
    prt.engine.dispose()


def _key_of(world, person_id):
    return world["by_id"][person_id]


def test_who_is_paired_arrives_in_any_order(world):
    c, pair = world["client"], world["pair_of"]("big-mentor1")
    mentee = _key_of(world, pair["mentee_id"])
    mine = c.get("/api/me/pairs", headers=world["headers"](mentee))
    assert mine.status_code == 200
    [relationship] = mine.json
    assert relationship["pair_id"] == pair["pair_id"] and relationship["active"] is True
    assert relationship["members"] == {pair["mentor_id"]: "mentor", pair["mentee_id"]: "mentee"}
    assert relationship["names"][pair["mentor_id"]] == "Name big-mentor1"
    with world["rt"].reading() as conn:
        from services.feedback import readmodels as rm

        cycle = conn.execute(sa.select(rm.cycles).where(rm.cycles.c.id == world["cycles"]["big"]))
        assert cycle.mappings().one()["review_months"] == [6, 12]
    assert c.get("/api/stats", headers=world["coordinator"]).status_code == 403
    stats = c.get("/api/stats", headers=world["admin"]).json["counts"]
    # 6 + 2 one-to-one pairs; the group cycle's three students are one group, not pairs.
    assert stats["pairs"] == 8 and stats["participants"] == 16 and stats["meetings"] == 0


def test_meetings_log_confirm_and_who_may_see_them(world):
    c, h, count = world["client"], world["headers"], world["count"]
    pair = world["pair_of"]("big-mentor1")
    mentee, mentor = _key_of(world, pair["mentee_id"]), _key_of(world, pair["mentor_id"])
    stranger = _key_of(world, world["pair_of"]("big-mentor2")["mentee_id"])
    url = f"/api/pairs/{pair['pair_id']}/meetings"
    good = {
        "date": TODAY().isoformat(), "duration_minutes": 45, "mode": "virtual",
        "topics": ["career", "research"], "notes": "Talked about fellowship plans.",
        "objectives": ["Draft a CV"], "action_items": ["Send CV by Friday"],
    }  # fmt: skip

    # Refusals: field-level 422s, nothing written.
    for change, field in (
        ({"date": (TODAY() + dt.timedelta(days=2)).isoformat()}, "date"),
        ({"date": (TODAY() - dt.timedelta(days=1)).isoformat()}, "date"),  # before the pair
        ({"duration_minutes": 3}, "duration_minutes"),
        ({"duration_minutes": 601}, "duration_minutes"),
        ({"mode": "carrier_pigeon"}, "mode"),
        ({"attendees": ["someone-else"]}, "attendees"),
    ):
        refused = c.post(url, json={**good, **change}, headers=h(mentee))
        assert refused.status_code == 422, (change, refused.json)
        assert field in refused.json["errors"]["json"], refused.json
    assert c.post(url, json=good, headers=h(stranger)).status_code == 403
    assert c.post(url, json=good, headers=world["coordinator"]).status_code == 403
    assert count() == 0

    logged = c.post(url, json=good, headers=h(mentee))
    assert logged.status_code == 201, logged.json
    meeting = logged.json
    assert meeting["logged_by"] == pair["mentee_id"] and meeting["confirmed_by"] is None
    assert meeting["topics"] == ["career", "research"] and meeting["date"] == good["date"]
    tomorrow = c.post(
        url, json={**good, "date": (TODAY() + dt.timedelta(days=1)).isoformat()}, headers=h(mentor)
    )
    assert tomorrow.status_code == 201  # a day ahead is allowed (time zones)

    # Reading: the members and the program's coordinators only.
    one = f"/api/meetings/{meeting['meeting_id']}"
    assert c.get(one, headers=h(mentor)).status_code == 200
    assert c.get(one, headers=world["coordinator"]).status_code == 200
    assert len(c.get(url, headers=world["coordinator"]).json) == 2
    assert c.get(one, headers=h(stranger)).status_code == 403
    assert c.get(url, headers=h(stranger)).status_code == 403
    assert c.get(one, headers=world["outsider"]).status_code == 403
    assert c.get(url, headers=world["outsider"]).status_code == 403

    # Confirming: the other member, once.
    before = count()
    confirm = f"{one}/confirm"
    assert c.post(confirm, headers=h(mentee)).status_code == 422  # who logged it
    assert c.post(confirm, headers=h(stranger)).status_code == 403
    assert c.post(confirm, headers=world["coordinator"]).status_code == 403
    assert count() == before
    confirmed = c.post(confirm, headers=h(mentor))
    assert confirmed.status_code == 200 and confirmed.json["confirmed_by"] == pair["mentor_id"]
    assert c.post(confirm, headers=h(mentor)).status_code == 422
    assert count("MeetingLogged") == 2 and count("MeetingConfirmed") == 1


def test_objectives_with_history_and_permissions(world):
    c, h = world["client"], world["headers"]
    pair = world["pair_of"]("big-mentor2")
    mentee, mentor = _key_of(world, pair["mentee_id"]), _key_of(world, pair["mentor_id"])
    stranger = _key_of(world, world["pair_of"]("big-mentor1")["mentee_id"])
    url = f"/api/pairs/{pair['pair_id']}/objectives"
    bad = c.post(url, json={"area": "astrology", "title": "x"}, headers=h(mentee))
    assert bad.status_code == 422 and "area" in bad.json["errors"]["json"]
    assert (
        c.post(url, json={"area": "resume", "title": "CV"}, headers=h(stranger)).status_code == 403
    )
    assert world["count"]() == 0

    made = c.post(
        url,
        json={"area": "resume", "title": "Update CV", "due_date": "2030-01-31"},
        headers=h(mentor),
    )
    assert made.status_code == 201, made.json
    objective = made.json
    assert objective["mentee_id"] == pair["mentee_id"] and objective["status"] == "open"
    status = f"/api/objectives/{objective['objective_id']}/status"
    assert c.post(status, json={"status": "done"}, headers=h(stranger)).status_code == 403
    assert c.post(status, json={"status": "open"}, headers=h(mentee)).status_code == 422
    assert c.post(status, json={"status": "finished"}, headers=h(mentee)).status_code == 422
    c.post(status, json={"status": "in_progress", "note": "started"}, headers=h(mentee))
    done = c.post(status, json={"status": "done", "note": "sent"}, headers=h(mentor))
    assert done.status_code == 200
    assert [x["status"] for x in done.json["history"]] == ["open", "in_progress", "done"]
    assert done.json["history"][1]["changed_by"] == pair["mentee_id"]

    listed = c.get(url, headers=world["coordinator"])
    assert listed.status_code == 200 and listed.json[0]["status"] == "done"
    assert c.get(url, headers=world["outsider"]).status_code == 403
    assert c.get(url, headers=h(stranger)).status_code == 403


def _raise(world, mentor_key, text="My mentor never answers."):
    pair = world["pair_of"](mentor_key)
    mentee = _key_of(world, pair["mentee_id"])
    raised = world["client"].post(
        f"/api/pairs/{pair['pair_id']}/concerns",
        json={"kind": "no_contact", "text": text},
        headers=world["headers"](mentee),
    )
    assert raised.status_code == 201, raised.json
    assert "text" not in raised.json and "kind" not in raised.json
    return raised.json, pair, mentee, _key_of(world, pair["mentor_id"])


def _views(world, concern_id):
    rt = world["rt"]
    with rt.reading() as conn:
        return [
            (e.payload["viewer_id"], e.payload["viewer_role"])
            for _, e in rt.store.read_all(conn)
            if e.event_type == "ConfidentialRecordViewed" and e.payload["concern_id"] == concern_id
        ]


def test_concern_is_seen_by_coordinators_only_and_every_read_is_recorded(world):
    c, h = world["client"], world["headers"]
    concern, pair, mentee, mentor = _raise(world, "big-mentor1")
    one = f"/api/concerns/{concern['concern_id']}"
    assert concern["status"] == "raised" and concern["escalated"] is False

    # The other member, a coordinator of another institution, the admin (not escalated), a
    # stranger: not found, through every endpoint; no read is recorded.
    stranger = _key_of(world, world["pair_of"]("big-mentor2")["mentee_id"])
    for who in (h(mentor), world["outsider"], world["admin"], h(stranger)):
        assert c.get(one, headers=who).status_code == 404
        assert c.get("/api/concerns", headers=who).json == []
        assert c.post(f"{one}/acknowledge", headers=who).status_code == 404
        assert c.post(f"{one}/resolve", json={"note": "x"}, headers=who).status_code == 404
        if who is not world["admin"]:  # the admin may see any concern's audit trail
            assert c.get(f"{one}/access-log", headers=who).status_code == 404
    assert c.get(f"/api/pairs/{pair['pair_id']}/meetings", headers=h(mentor)).json == []
    assert _views(world, concern["concern_id"]) == []

    # The coordinator of the program's institution reads it; each read is recorded.
    listed = c.get("/api/concerns", headers=world["coordinator"]).json
    assert [x["concern_id"] for x in listed] == [concern["concern_id"]]
    assert "text" not in listed[0]  # lists carry no content
    for _ in range(2):
        read = c.get(one, headers=world["coordinator"])
        assert read.status_code == 200
        assert read.json["text"] == "My mentor never answers." and read.json["kind"] == "no_contact"
        assert read.json["viewed_as"] == "coordinator"
    assert _views(world, concern["concern_id"]) == [("coord-a", "coordinator")] * 2
    log = c.get(f"{one}/access-log", headers=world["coordinator"]).json
    assert [x["viewer_id"] for x in log] == ["coord-a", "coord-a"]

    # Lifecycle: raised -> acknowledged -> resolved with a note.
    assert (
        c.post(f"{one}/resolve", json={"note": "done"}, headers=world["coordinator"]).status_code
        == 422
    )
    assert c.post(f"{one}/acknowledge", headers=h(mentee)).status_code == 404  # not the raiser
    ack = c.post(f"{one}/acknowledge", headers=world["coordinator"])
    assert ack.status_code == 200 and ack.json["status"] == "acknowledged"
    assert c.post(f"{one}/acknowledge", headers=world["coordinator"]).status_code == 422
    empty = c.post(f"{one}/resolve", json={"note": ""}, headers=world["coordinator"])
    assert empty.status_code == 422 and "note" in empty.json["errors"]["json"]
    resolved = c.post(
        f"{one}/resolve", json={"note": "Spoke to both."}, headers=world["coordinator"]
    )
    assert resolved.status_code == 200 and resolved.json["status"] == "resolved"

    # The raiser sees their own concern (recorded too); the mentor still cannot.
    own = c.get(one, headers=h(mentee))
    assert own.status_code == 200 and own.json["viewed_as"] == "raiser"
    assert c.get(one, headers=h(mentor)).status_code == 404
    assert _views(world, concern["concern_id"])[-1] == (pair["mentee_id"], "raiser")
    assert world["count"]("ConcernEscalated") == 0


def test_concern_escalates_when_a_coordinator_is_a_party(world):
    c = world["client"]
    # Mentor 0 of the big cycle is also a coordinator of the institution.
    concern, _pair, _mentee, mentor = _raise(world, "big-mentor0", "Boundary issue.")
    assert concern["escalated"] is True and concern["escalation_reason"] == "coordinator_party"
    one = f"/api/concerns/{concern['concern_id']}"
    party = world["headers"](mentor)  # holds the coordinator role, but is the other member
    assert c.get(one, headers=party).status_code == 404
    assert c.get("/api/concerns", headers=party).json == []
    assert c.post(f"{one}/acknowledge", headers=party).status_code == 404
    admin = c.get(one, headers=world["admin"])
    assert admin.status_code == 200 and admin.json["viewed_as"] == "consortium_admin"
    assert c.get(one, headers=world["coordinator"]).status_code == 200  # a coordinator not party
    assert c.get(one, headers=world["outsider"]).status_code == 404
    assert _views(world, concern["concern_id"]) == [
        ("admin-1", "consortium_admin"),
        ("coord-a", "coordinator"),
    ]


def test_concern_escalates_when_not_acknowledged_in_time(world, monkeypatch):
    c = world["client"]
    monkeypatch.setenv("CONCERN_ACK_HOURS", "2")
    concern, *_ = _raise(world, "big-mentor1")
    acked, *_ = _raise(world, "big-mentor2")
    c.post(f"/api/concerns/{acked['concern_id']}/acknowledge", headers=world["coordinator"])
    escalate = "/api/concerns/escalate-due"
    assert c.post(escalate, headers=world["coordinator"]).status_code == 403
    assert c.post(escalate, headers=world["admin"]).json == []  # not yet due
    assert (
        c.get(f"/api/concerns/{concern['concern_id']}", headers=world["admin"]).status_code == 404
    )

    later = utcnow() + dt.timedelta(hours=2, minutes=1)
    world["clock"].move_to(later)
    escalated = c.post(escalate, headers=world["admin"])
    assert escalated.status_code == 200
    assert [x["concern_id"] for x in escalated.json] == [concern["concern_id"]]
    assert escalated.json[0]["escalation_reason"] == "not_acknowledged"
    assert c.post(escalate, headers=world["admin"]).json == []  # once
    assert world["count"]("ConcernEscalated") == 1
    assert (
        c.get(f"/api/concerns/{concern['concern_id']}", headers=world["admin"]).status_code == 200
    )


def test_the_worker_loop_escalates_overdue_concerns(world, monkeypatch):
    assert concern_deadlines in FEEDBACK.background
    concern, *_ = _raise(world, "big-mentor1")
    later = utcnow() + dt.timedelta(hours=73)  # CONCERN_ACK_HOURS defaults to 72
    world["clock"].move_to(later)
    stop = threading.Event()
    loop = threading.Thread(
        target=concern_deadlines, args=(world["rt"], stop, 0.05, world["clock"])
    )
    loop.start()
    try:
        wait_until(lambda: world["count"]("ConcernEscalated") == 1, timeout_s=10)
    finally:
        stop.set()
        loop.join(5)
    listed = world["client"].get("/api/concerns", headers=world["admin"]).json
    assert [(x["concern_id"], x["escalated"]) for x in listed] == [(concern["concern_id"], True)]


def test_health_suppresses_small_aggregates_and_export_is_deidentified(world, monkeypatch):
    c, h = world["client"], world["headers"]
    for n in (1, 2):
        pair = world["pair_of"](f"big-mentor{n}")
        logged = c.post(
            f"/api/pairs/{pair['pair_id']}/meetings",
            json={"date": TODAY().isoformat(), "duration_minutes": 60, "mode": "in_person",
                  "notes": "SECRET-NOTE", "topics": ["SECRET-TOPIC"]},
            headers=h(_key_of(world, pair["mentee_id"])),
        )  # fmt: skip
        assert logged.status_code == 201
        c.post(
            f"/api/meetings/{logged.json['meeting_id']}/confirm",
            headers=h(_key_of(world, pair["mentor_id"])),
        )

    big, small = world["cycles"]["big"], world["cycles"]["small"]
    assert c.get(f"/api/cycles/{big}/health", headers=world["outsider"]).status_code == 403
    assert c.get(f"/api/cycles/{big}/health", headers=h("big-mentee0")).status_code == 403
    spec = c.get("/api/openapi.json")
    assert spec.status_code == 200 and "/api/pairs/{pair_id}/concerns" in spec.json["paths"]
    bad = c.get(f"/api/cycles/{big}/health?inactive_days=0", headers=world["coordinator"])
    assert bad.status_code == 422 and "inactive_days" in bad.json["errors"]["query"]

    # 31 days on: every pair is at risk; the cycle's 9 people give numbers, each mentor's
    # 3 people (mentor and two mentees) do not.
    later = utcnow() + dt.timedelta(days=31)
    world["clock"].move_to(later)
    health = c.get(f"/api/cycles/{big}/health", headers=world["coordinator"]).json
    assert len(health["at_risk"]) == 6
    meetings = health["meetings"]
    assert meetings["suppressed"] is False and meetings["people"] == 9
    assert meetings["meetings"] == 2 and meetings["confirmed_share"] == 1.0
    assert meetings["per_pair_mean"] == round(2 / 6, 2)
    assert all(o["outcome"] == {"suppressed": True, "reason": "describes fewer than 5 people"}
               for o in health["mentor_outcomes"])  # fmt: skip
    assert {o["mentor_name"] for o in health["mentor_outcomes"]} == {
        "Name big-mentor0", "Name big-mentor1", "Name big-mentor2"
    }  # fmt: skip
    assert health["objectives"]["suppressed"] is True  # nobody has objectives yet
    deidentified = c.get(f"/api/cycles/{big}/health", headers=world["admin"]).json
    assert deidentified["meetings"] == meetings and len(deidentified["at_risk"]) == 6
    shown = repr(deidentified)
    assert not any(p["id"] in shown or p["name"] in shown for p in world["people"].values())
    recent = c.get(f"/api/cycles/{big}/health?inactive_days=60", headers=world["coordinator"])
    assert recent.json["at_risk"] == []

    small_health = c.get(f"/api/cycles/{small}/health", headers=world["coordinator"]).json
    assert small_health["meetings"] == {
        "suppressed": True,
        "reason": "describes fewer than 5 people",
    }
    assert "people" not in small_health["meetings"]
    # Month by month: every month of the 9-person cycle shows, the small cycle's are suppressed.
    trend = health["trends"]
    assert trend and sum(t["meetings"] for t in trend) == 2
    assert all(t["suppressed"] is False and t["people"] == 9 for t in trend)
    assert small_health["trends"]
    assert all(t["suppressed"] is True and "meetings" not in t for t in small_health["trends"])

    # The export: pseudonyms (HMAC under FEEDBACK_EXPORT_KEY), counts, no names/emails/free text.
    export = c.get(f"/api/cycles/{big}/export.csv", headers=world["admin"])
    assert export.status_code == 200 and export.mimetype == "text/csv"
    text = export.get_data(as_text=True)
    for key, person in world["people"].items():
        assert (
            person["name"] not in text and person["email"] not in text and person["id"] not in text
        )
        assert key not in text
    assert "SECRET" not in text and "@" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 12  # 6 pairs, two members each
    key = "export-key-for-tests-0123456789abcdef"
    mentee_id = world["pair_of"]("big-mentor1")["mentee_id"]
    row = next(r for r in rows if r["participant"] == pseudonym(key, "person", mentee_id))
    assert row["role"] == "mentee" and row["meetings_logged"] == "1" and row["minutes_met"] == "60"
    assert c.get(f"/api/cycles/{big}/export.csv", headers=world["outsider"]).status_code == 403
    assert c.get(f"/api/cycles/{big}/export.csv", headers=h("big-mentee0")).status_code == 403
    # Each export taken is recorded for the audit trail; refusals record nothing.
    assert world["count"]("RecordsExported") == 1

    tiny = c.get(f"/api/cycles/{small}/export.csv", headers=world["coordinator"])
    assert tiny.status_code == 200 and tiny.headers["X-Tandem-Suppressed"]
    assert tiny.get_data(as_text=True).strip().splitlines() == [
        "participant,role,relationship,mentor,meetings_logged,meetings_confirmed,minutes_met,"
        "objectives_set,objectives_done"
    ]


def test_group_meetings_record_attendance(world):
    c, h, people = world["client"], world["headers"], world["people"]
    coach = "group-mentor0"
    groups = c.get("/api/me/pairs", headers=h(coach)).json
    group = next(g for g in groups if g["kind"] == "group")
    assert sorted(group["members"].values()) == ["mentee", "mentee", "mentee", "mentor"]
    url = f"/api/pairs/{group['pair_id']}/meetings"
    body = {"date": TODAY().isoformat(), "duration_minutes": 90, "mode": "in_person"}
    attendees = [people[coach]["id"], people["group-mentee0"]["id"], people["group-mentee1"]["id"]]
    stranger = c.post(
        url, json={**body, "attendees": [people["big-mentee0"]["id"]]}, headers=h(coach)
    )
    assert stranger.status_code == 422 and "attendees" in stranger.json["errors"]["json"]
    logged = c.post(url, json={**body, "attendees": attendees}, headers=h(coach))
    assert logged.status_code == 201, logged.json
    assert logged.json["attendees"] == sorted(attendees)
    assert c.get(url, headers=h("group-mentee2")).status_code == 200  # a member who missed it
    assert c.get(url, headers=h("big-mentee0")).status_code == 403
    confirmed = c.post(
        f"/api/meetings/{logged.json['meeting_id']}/confirm", headers=h("group-mentee1")
    )
    assert confirmed.status_code == 200


def test_a_program_coordinator_acts_on_their_program_only(world):
    """A coordinator granted one program reads its pairs, concerns and health; a coordinator of
    another program of the same institution reads none of them (the issue: program scopes)."""
    c, h, inst = world["client"], world["headers"], world["institution_id"]
    ours = auth_headers(Grant(COORDINATOR, inst, world["program_id"]), user="coord-p")
    theirs = auth_headers(Grant(COORDINATOR, inst, "another-program"), user="coord-q")
    pair = world["pair_of"]("big-mentor1")
    mentee = _key_of(world, pair["mentee_id"])
    logged = c.post(
        f"/api/pairs/{pair['pair_id']}/meetings",
        json={"date": TODAY().isoformat(), "duration_minutes": 30, "mode": "virtual"},
        headers=h(mentee),
    )
    assert logged.status_code == 201
    objective = c.post(
        f"/api/pairs/{pair['pair_id']}/objectives",
        json={"area": "resume", "title": "CV"},
        headers=h(mentee),
    )
    assert objective.status_code == 201
    concern, *_ = _raise(world, "big-mentor1", "Private words.")
    one = f"/api/concerns/{concern['concern_id']}"
    big = world["cycles"]["big"]
    reads = [
        f"/api/pairs/{pair['pair_id']}/meetings",
        f"/api/meetings/{logged.json['meeting_id']}",
        f"/api/pairs/{pair['pair_id']}/objectives",
        f"/api/cycles/{big}/health",
        f"/api/cycles/{big}/export.csv",
        f"/api/cycles/{big}/survey-schedules",
    ]
    for url in reads:
        assert c.get(url, headers=ours).status_code == 200, url
        assert c.get(url, headers=theirs).status_code == 403, url
    assert c.get(one, headers=ours).json["viewed_as"] == "coordinator"
    assert [x["concern_id"] for x in c.get("/api/concerns", headers=ours).json] == [
        concern["concern_id"]
    ]
    assert c.get(f"{one}/access-log", headers=ours).status_code == 200
    # Another program's coordinator: the concern does not exist, through every endpoint.
    assert c.get(one, headers=theirs).status_code == 404
    assert c.get("/api/concerns", headers=theirs).json == []
    assert c.get(f"{one}/access-log", headers=theirs).status_code == 404
    assert c.post(f"{one}/acknowledge", headers=theirs).status_code == 404
    assert c.post(f"{one}/resolve", json={"note": "x"}, headers=theirs).status_code == 404
    assert _views(world, concern["concern_id"]) == [("coord-p", "coordinator")]
    # Handling stays with the program's coordinators.
    assert c.post(f"{one}/acknowledge", headers=ours).status_code == 200


def test_scoped_admin_and_system_tokens_cover_their_institution_only(world, monkeypatch):
    c = world["client"]
    other = world["other_institution_id"]
    scoped = [
        auth_headers(Grant(ADMIN, other), user="admin-b"),
        auth_headers(Grant(SYSTEM, other), user="system-b"),
    ]
    concern, *_ = _raise(world, "big-mentor0", "Boundary issue.")  # escalated at once
    assert concern["escalated"] is True
    one = f"/api/concerns/{concern['concern_id']}"
    big = world["cycles"]["big"]
    pair = world["pair_of"]("big-mentor1")
    for who in scoped:
        # Consortium-wide jobs and outcomes need a consortium-wide grant.
        assert c.post("/api/concerns/escalate-due", headers=who).status_code == 403
        assert c.post("/api/surveys/issue-due", headers=who).status_code == 403
        assert c.get("/api/outcomes", headers=who).status_code == 403
        # Another institution's records are not theirs either.
        assert c.get(f"/api/cycles/{big}/health", headers=who).status_code == 403
        assert c.get(f"/api/cycles/{big}/export.csv", headers=who).status_code == 403
        assert c.get(f"/api/pairs/{pair['pair_id']}/meetings", headers=who).status_code == 403
        assert c.get(one, headers=who).status_code == 404
        assert c.get(f"{one}/access-log", headers=who).status_code == 404
        assert c.get("/api/concerns", headers=who).json == []
    # An admin scoped to the cycle's own institution is that institution's admin.
    own = auth_headers(Grant(ADMIN, world["institution_id"]), user="admin-a")
    assert c.get(f"/api/cycles/{big}/health", headers=own).status_code == 200
    assert c.get(one, headers=own).json["viewed_as"] == "consortium_admin"
    assert c.post("/api/concerns/escalate-due", headers=own).status_code == 403
    # The consortium-wide system runs the jobs.
    system = auth_headers(Grant(SYSTEM), user="system")
    assert c.post("/api/concerns/escalate-due", headers=system).status_code == 200
    assert c.post("/api/surveys/issue-due", headers=system).status_code == 200
    assert c.get(one, headers=system).status_code == 404  # never a reader of concerns


def test_every_route_declares_its_permission(world):
    spec = world["client"].get("/api/openapi.json").json
    own = [
        (path, method, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(own) >= 32
    missing = [(path, method) for path, method, op in own if "x-permission" not in op]
    assert missing == []


def test_in_a_coaching_group_the_coach_asks_and_sets_the_time_and_members_see_it(world):
    c, h, people = world["client"], world["headers"], world["people"]
    coach = "group-mentor0"
    group = next(g for g in c.get("/api/me/pairs", headers=h(coach)).json if g["kind"] == "group")
    url = f"/api/pairs/{group['pair_id']}/meeting-requests"
    soon = [(utcnow() + dt.timedelta(days=d)).isoformat() for d in (2, 3)]
    body = {"options": soon, "mode": "in_person", "place": "Career centre, room 2"}
    by_member = c.post(url, json=body, headers=h("group-mentee0"))
    assert by_member.status_code == 422 and "pair_id" in by_member.json["errors"]["json"]
    made = c.post(url, json=body, headers=h(coach))
    assert made.status_code == 201, made.json
    request = made.json
    assert sorted(request["attendees"]) == sorted(
        people[k]["id"] for k in (coach, "group-mentee0", "group-mentee1", "group-mentee2")
    )
    accept = f"/api/meeting-requests/{request['request_id']}/accept"
    by_member = c.post(accept, json={"starts_at": soon[1]}, headers=h("group-mentee1"))
    assert by_member.status_code == 422 and "request_id" in by_member.json["errors"]["json"]
    set_ = c.post(accept, json={"starts_at": soon[1]}, headers=h(coach))
    assert set_.status_code == 200 and set_.json["status"] == "scheduled"
    seen = c.get(url, headers=h("group-mentee2")).json
    assert [(r["status"], r["starts_at"]) for r in seen] == [("scheduled", request["options"][1])]
    cancel = f"/api/meeting-requests/{request['request_id']}/cancel"
    assert c.post(cancel, headers=h("group-mentee2")).status_code == 422
    assert c.post(cancel, headers=h(coach)).json["status"] == "cancelled"
