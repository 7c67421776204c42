"""The request, meeting and concern notices over real SMTP (aiosmtpd on loopback), on SQLite and
PostgreSQL: each reaches exactly the right people once when its event is delivered twice, and a
concern's mail carries nothing of the concern and never reaches a member of the pair.

People, programs and staff grants come from the real enrollment API; pairing and feedback events
are envelopes validated against their contracts."""

from __future__ import annotations

import types

import pytest
import sqlalchemy as sa
import test_notifications_delivery as base

from services.eventkit.auth import MENTEE, Grant
from services.eventkit.contracts import feedback, pairing
from services.eventkit.envelope import GENESIS_HASH, SYSTEM_ACTOR, Envelope, new_id, utcnow
from services.notifications import delivery
from services.notifications import readmodels as rm
from services.notifications.service import SERVICE
from support import auth_headers, deliver

PAIRING, FEEDBACK = "tandem.pairing.v1", "tandem.feedback.v1"
address, settings, stored = base.address, base.settings, base.stored
world, smtp = base.world, base.smtp  # the fixtures: a mentor and mentee enrolled; an SMTP server
CONCERN_TEXT = "He keeps cancelling and made a remark about my accent in front of the team."


@pytest.fixture
def staff(world, client, admin, enrollment_app):
    """Beside the world's mentor and mentee: an institution coordinator, a coordinator of this
    program only, one whose grant was revoked, a coordinator elsewhere, a consortium admin, and
    the mentor is a coordinator too (a member of the pair, so never told of its concerns)."""

    def post(url, body, status=201):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == status, response.json
        return response.json

    inst, program = world.institution["id"], world.program["id"]
    other = post("/api/institutions", {"name": "Eastgate", "short_code": "EG", "time_zone": "UTC"})
    people = {}
    for key, institution_id in (
        ("coordinator", inst),
        ("program_coordinator", inst),
        ("former_coordinator", inst),
        ("elsewhere", other["id"]),
        ("consortium_admin", inst),
    ):
        name = key.replace("_", " ").title()
        people[key] = post(
            "/api/people",
            {
                "institution_id": institution_id,
                "name": name,
                "email": f"{key}@staff.example",
                "training_level": "faculty",
            },
        )
    grants = [
        ("coordinator", {"role": "coordinator", "institution_id": inst}),
        (
            "program_coordinator",
            {"role": "coordinator", "institution_id": inst, "program_id": program},
        ),
        ("former_coordinator", {"role": "coordinator", "institution_id": inst}),
        ("elsewhere", {"role": "coordinator", "institution_id": other["id"]}),
        ("consortium_admin", {"role": "consortium_admin"}),
    ]
    for key, body in grants:
        post(f"/api/people/{people[key]['id']}/roles", body, status=200)
    post(f"/api/people/{world.people['mentor']['id']}/roles", {"role": "coordinator", "institution_id": inst}, status=200)  # fmt: skip
    post(f"/api/people/{people['former_coordinator']['id']}/roles/revoke", {"role": "coordinator", "institution_id": inst}, status=200)  # fmt: skip

    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        events = [e for _, e in source.store.read_all(conn)]
    world.people.update(people)
    return types.SimpleNamespace(events=events, keys=list(people))


def envelope(world, registry, event_type: str, stream_id: str, payload: dict) -> Envelope:
    contract = registry.get(event_type)
    payload = contract.validate(payload)
    return Envelope(
        event_id=new_id(), event_type=event_type, schema_version=contract.version, stream_id=stream_id,
        stream_version=1, institution_id=world.institution["id"], actor=dict(SYSTEM_ACTOR),
        occurred_at=utcnow(), correlation_id=new_id(), causation_id=None, payload=payload,
    ).sealed(GENESIS_HASH)  # fmt: skip


def pair_created(world) -> Envelope:
    pair_id = new_id()
    return envelope(world, pairing.registry, "PairCreated", f"pair-{pair_id}", {
        "pair_id": pair_id, "cycle_id": world.cycle["id"], "run_id": new_id(),
        "mentee_id": world.people["mentee"]["id"], "mentor_id": world.people["mentor"]["id"],
        "score": 0.8,
    })  # fmt: skip


def request_event(world, event_type: str, **extra) -> Envelope:
    return envelope(world, pairing.registry, event_type, f"cycle-{world.cycle['id']}", {
        "request_id": "req-1", "round_id": "round-1", "cycle_id": world.cycle["id"],
        "mentee_id": world.people["mentee"]["id"], "mentor_id": world.people["mentor"]["id"],
        **extra,
    })  # fmt: skip


def concern_raised(world, pair: Envelope) -> Envelope:
    concern_id = new_id()
    return envelope(world, feedback.registry, "ConcernRaised", f"concern-{concern_id}", {
        "concern_id": concern_id, "pair_id": pair.payload["pair_id"],
        "cycle_id": world.cycle["id"], "raised_by": world.people["mentee"]["id"],
        "raiser_role": "mentee", "kind": "boundary", "text": CONCERN_TEXT,
        "parties": [world.people["mentor"]["id"]], "ack_due": "2026-12-04T23:00:00+00:00",
    })  # fmt: skip


def received(smtp, world, kind_subject: str) -> dict[str, int]:
    """How many mails whose subject contains `kind_subject` each known person received."""
    counts = {}
    for key in world.people:
        n = sum(kind_subject in m["Subject"] for m in smtp.mailbox.to(address(world, key)))
        if n:
            counts[key] = n
    return counts


def send(world, smtp) -> None:
    sender = delivery.Sender(world.rt, settings(smtp.port))
    sender.run_once()
    assert sender.run_once() == 0


def body(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_a_mentor_is_asked_once_with_the_deadline_in_local_time(world, smtp, monkeypatch):
    monkeypatch.setenv("WEB_PUBLIC_URL", "https://tandem.example.org")
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    asked = request_event(world, "MentorRequested", rank=1, deadline="2026-12-04T23:00:00Z")
    deliver(SERVICE, world.rt, [asked, asked], topic=PAIRING)
    send(world, smtp)

    assert received(smtp, world, "asks you to be their mentor") == {"mentor": 1}
    [mail] = [m for m in smtp.mailbox.to(address(world, "mentor")) if "asks" in m["Subject"]]
    assert mail["Subject"] == "Sam Mentee asks you to be their mentor in Resident Peer Mentoring"
    text, html = body(mail)
    assert "by Friday 4 December 2026, 17:00 CST" in text  # America/Chicago
    assert "first choice" in text and "/requests/req-1" in text
    assert 'href="https://tandem.example.org/requests/req-1"' in html  # links follow WEB_PUBLIC_URL
    assert len(stored(world, "NotificationQueued")) == 3  # two enrolled, one request


def test_the_mentee_hears_once_whether_accepted_or_declined(world, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    accepted = request_event(world, "RequestAccepted")
    declined = request_event(world, "RequestDeclined", reason="MENTOR-PRIVATE-NOTE")
    deliver(SERVICE, world.rt, [accepted, declined, accepted, declined], topic=PAIRING)
    send(world, smtp)

    assert received(smtp, world, "your mentorship request") == {"mentee": 2}
    mails = {m["Subject"]: m for m in smtp.mailbox.to(address(world, "mentee"))}
    yes = body(mails["Dana Mentor accepted your mentorship request"])
    no = body(mails["Dana Mentor declined your mentorship request"])
    assert "mentor@northwind.example" in yes[0] and "Next steps" in yes[0]
    assert "Meet at least once a month." in yes[0] and "<h2>Next steps</h2>" in yes[1]
    assert "moves on to your next choice" in no[0] and "moves on to your next choice" in no[1]
    assert all("MENTOR-PRIVATE-NOTE" not in part for part in (*yes, *no))


def test_the_other_member_is_asked_to_confirm_a_logged_meeting(world, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    pair = pair_created(world)
    meeting = envelope(world, feedback.registry, "MeetingLogged", f"meeting-{new_id()}", {
        "meeting_id": "meeting-1", "pair_id": pair.payload["pair_id"],
        "cycle_id": world.cycle["id"], "logged_by": world.people["mentor"]["id"],
        "date": "2026-11-20", "duration_minutes": 45, "mode": "virtual",
        "notes": "PRIVATE-MEETING-NOTES",
    })  # fmt: skip
    deliver(SERVICE, world.rt, [meeting], topic=FEEDBACK)  # before its pair is known: waits
    deliver(SERVICE, world.rt, [pair], topic=PAIRING)
    deliver(SERVICE, world.rt, [meeting, pair], topic=FEEDBACK)
    send(world, smtp)

    assert received(smtp, world, "logged a meeting") == {"mentee": 1}
    [mail] = [m for m in smtp.mailbox.to(address(world, "mentee")) if "meeting" in m["Subject"]]
    assert mail["Subject"] == "Dana Mentor logged a meeting: please confirm it"
    text, html = body(mail)
    assert "on 2026-11-20" in text and "/meetings/meeting-1" in text and "confirm it</a>" in html
    assert "PRIVATE-MEETING-NOTES" not in text + html
    with world.rt.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rm.waiting)).scalar_one() == 0


def test_everyone_a_survey_is_issued_to_is_asked_once_to_answer(world, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    pair = pair_created(world)
    members = [
        {"person_id": world.people[role]["id"], "pair_id": pair.payload["pair_id"], "role": role}
        for role in ("mentor", "mentee")
    ]
    issued = envelope(world, feedback.registry, "SurveyIssued", f"survey-{new_id()}", {
        "instance_id": "instance-1", "schedule_id": "schedule-1", "template_id": "template-1",
        "cycle_id": world.cycle["id"], "month": 6, "issued_on": "2027-02-15",
        "due_on": "2027-03-01", "recipients": members,
    })  # fmt: skip
    deliver(SERVICE, world.rt, [issued, issued], topic=FEEDBACK)
    send(world, smtp)

    assert received(smtp, world, "survey is waiting") == {"mentor": 1, "mentee": 1}
    [mail] = [m for m in smtp.mailbox.to(address(world, "mentee")) if "survey" in m["Subject"]]
    assert mail["Subject"] == "A short Resident Peer Mentoring survey is waiting for you"
    text, html = body(mail)
    assert (
        "by 2027-03-01" in text
        and "/surveys/instance-1" in text
        and "Answer the survey</a>" in html
    )


def test_a_concern_reaches_its_coordinators_once_and_says_nothing_of_itself(world, staff, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, staff.events)
    pair = pair_created(world)
    deliver(SERVICE, world.rt, [pair, pair], topic=PAIRING)
    concern = concern_raised(world, pair)
    deliver(SERVICE, world.rt, [concern], topic=FEEDBACK)
    deliver(SERVICE, world.rt, [concern], topic=FEEDBACK)  # delivered twice
    send(world, smtp)

    # The mentor coordinates the institution too, but is in the pair: never told.
    assert received(smtp, world, "concern") == {"coordinator": 1, "program_coordinator": 1}
    for message in smtp.mailbox.messages:
        text, html = body(message)
        assert CONCERN_TEXT not in text and CONCERN_TEXT not in html
        assert CONCERN_TEXT not in message.as_string()
    [mail] = [m for m in smtp.mailbox.to(address(world, "coordinator")) if "concern" in m["Subject"]]  # fmt: skip
    assert mail["Subject"] == "A concern needs your attention"
    text, html = body(mail)
    assert f"/concerns/{concern.payload['concern_id']}" in text
    assert "boundary" not in text + html and "Sam Mentee" not in text + html
    for queued in stored(world, "NotificationQueued"):
        assert CONCERN_TEXT not in str(queued.payload)


def test_an_escalated_concern_reaches_the_consortium_admins_once(world, staff, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, staff.events)
    pair = pair_created(world)
    concern = concern_raised(world, pair)
    escalated = envelope(world, feedback.registry, "ConcernEscalated", concern.stream_id, {
        "concern_id": concern.payload["concern_id"], "reason": "not_acknowledged",
    })  # fmt: skip
    deliver(SERVICE, world.rt, [escalated], topic=FEEDBACK)  # before the concern: waits
    deliver(SERVICE, world.rt, [pair], topic=PAIRING)
    deliver(SERVICE, world.rt, [concern, escalated, concern, escalated], topic=FEEDBACK)
    send(world, smtp)

    assert received(smtp, world, "escalated concern") == {"consortium_admin": 1}
    assert received(smtp, world, "A concern needs") == {"coordinator": 1, "program_coordinator": 1}  # fmt: skip
    for message in smtp.mailbox.messages:
        text, html = body(message)
        assert CONCERN_TEXT not in text and CONCERN_TEXT not in html
    [mail] = smtp.mailbox.to(address(world, "consortium_admin"))
    assert mail["Subject"] == "An escalated concern needs your attention"


def test_concern_notices_are_mandatory_and_others_may_be_turned_down(world, smtp):
    mentee = world.people["mentee"]["id"]
    url = f"/api/people/{mentee}/notification-preferences"
    mine = auth_headers(Grant(MENTEE, world.institution["id"], world.program["id"]), user=mentee)
    for kind in ("concern_raised", "concern_escalated"):
        refused = world.api.put(url, json={"preferences": {kind: "in_app"}}, headers=mine)
        assert refused.status_code == 422, kind
    chosen = world.api.put(url, json={"preferences": {"request_answered": "in_app"}}, headers=mine)
    assert chosen.status_code == 200
    assert {"concern_raised", "concern_escalated"} <= set(chosen.json["mandatory"])

    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    deliver(SERVICE, world.rt, [request_event(world, "RequestAccepted")], topic=PAIRING)
    send(world, smtp)
    assert received(smtp, world, "your mentorship request") == {}
    inbox = world.api.get(f"/api/people/{mentee}/notifications", headers=mine).json
    assert "request_answered" in {n["kind"] for n in inbox}
