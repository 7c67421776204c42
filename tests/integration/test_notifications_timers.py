"""Timed notices over real SMTP (aiosmtpd on loopback), on SQLite and PostgreSQL, with time driven
through the timer loop's clock: survey reminders before the due date, alerts for pairs that do
not meet, weekly digests; and the notices of expired requests, unmatched mentees and concerns
still open when a coordinator is appointed.

Each timer fires once at its time, again never (however often the loop runs, and across a restart
or a round killed midway), and reminders skip whoever has answered."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import sqlalchemy as sa
import test_notifications_delivery as base
import test_notifications_notices as notices

from services.eventkit.contracts import enrollment, feedback, pairing
from services.eventkit.db import make_engine
from services.eventkit.envelope import GENESIS_HASH, SYSTEM_ACTOR, Envelope, new_id, utcnow
from services.eventkit.migrations import upgrade
from services.feedback.domain.surveys import SurveyInstance, SurveySchedule
from services.notifications import delivery
from services.notifications import readmodels as rm
from services.notifications.app import reminders
from services.notifications.domain import schedule
from services.notifications.service import SERVICE
from services.notifications.timers import Timers
from support import deliver

PAIRING, FEEDBACK = notices.PAIRING, notices.FEEDBACK
CHICAGO = zoneinfo.ZoneInfo("America/Chicago")  # the world's institution
world, smtp, staff = base.world, base.smtp, notices.staff  # fixtures
address, envelope, received = base.address, notices.envelope, notices.received
SECOND = dt.timedelta(seconds=1)


def at_nine(day: dt.date) -> dt.datetime:
    """09:00 in Chicago on `day`, in UTC."""
    return dt.datetime(day.year, day.month, day.day, 9, tzinfo=CHICAGO).astimezone(dt.UTC)


def send(world, smtp) -> int:
    sender = delivery.Sender(world.rt, base.settings(smtp.port))
    sent = sender.run_once()
    assert sender.run_once() == 0
    return sent


def subjects(smtp, world, key: str) -> list[str]:
    return sorted(m["Subject"] for m in smtp.mailbox.to(address(world, key)))


def queued(world, kind: str) -> list[Envelope]:
    return [e for e in base.stored(world, "NotificationQueued") if e.payload["kind"] == kind]


def members(world, pair: Envelope) -> list[dict]:
    return [
        {"person_id": world.people[role]["id"], "pair_id": pair.payload["pair_id"], "role": role}
        for role in ("mentor", "mentee")
    ]


def survey_issued(world, pair: Envelope, due_on: dt.date, instance_id: str = "instance-1"):
    return envelope(world, feedback.registry, "SurveyIssued", f"survey-instance-{instance_id}", {
        "instance_id": instance_id, "schedule_id": "schedule-1", "template_id": "template-1",
        "cycle_id": world.cycle["id"], "month": 6,
        "issued_on": (due_on - dt.timedelta(days=14)).isoformat(), "due_on": due_on.isoformat(),
        "recipients": members(world, pair),
    })  # fmt: skip


def survey_answered(world, key: str, instance_id: str = "instance-1") -> Envelope:
    person = world.people[key]["id"]
    return envelope(world, feedback.registry, "SurveyAnswered", f"survey-response-{person}", {
        "instance_id": instance_id, "person_id": person, "revision": 1,
        "answers": {"helpful": 4, "better": "PRIVATE-ANSWER"},
    })  # fmt: skip


def meeting_logged(world, pair: Envelope, on: dt.date) -> Envelope:
    return envelope(world, feedback.registry, "MeetingLogged", f"meeting-{new_id()}", {
        "meeting_id": new_id(), "pair_id": pair.payload["pair_id"], "cycle_id": world.cycle["id"],
        "logged_by": world.people["mentor"]["id"], "date": on.isoformat(),
        "duration_minutes": 45, "mode": "virtual",
    })  # fmt: skip


def enrollment_events(enrollment_app) -> list[Envelope]:
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        return [e for _, e in source.store.read_all(conn)]


def paired(world, smtp, events=None) -> Envelope:
    """The world's people (or `events`) delivered, their pair published, those mails sent."""
    smtp.start()
    deliver(SERVICE, world.rt, events or world.events)
    pair = notices.pair_created(world)
    deliver(SERVICE, world.rt, [pair, pair], topic=PAIRING)
    send(world, smtp)
    smtp.mailbox.messages.clear()
    return pair


# --- survey reminders ---------------------------------------------------------------------------


def test_survey_reminders_go_once_at_nine_to_those_who_have_not_answered(world, smtp):
    pair = paired(world, smtp)
    due_on = utcnow().date() + dt.timedelta(days=20)
    issued = survey_issued(world, pair, due_on)
    deliver(SERVICE, world.rt, [issued, issued], topic=FEEDBACK)
    assert send(world, smtp) == 2  # the survey itself, to both
    smtp.mailbox.messages.clear()

    first, second = at_nine(due_on - dt.timedelta(days=3)), at_nine(due_on - dt.timedelta(days=1))
    timers = Timers(world.rt)
    assert timers.run_once(first - SECOND) == 0
    assert timers.run_once(first + SECOND) == 2
    assert timers.run_once(first + SECOND) == 0
    assert Timers(world.rt).run_once(first + dt.timedelta(hours=1)) == 0  # restarted: nothing
    assert send(world, smtp) == 2
    reminder = "Reminder: your Resident Peer Mentoring survey is due in 3 days"
    assert subjects(smtp, world, "mentee") == subjects(smtp, world, "mentor") == [reminder]
    [mail] = smtp.mailbox.to(address(world, "mentee"))
    text, html = notices.body(mail)
    assert f"on {due_on.isoformat()}" in text and "/me/surveys" in text
    assert "Answer the survey</a>" in html

    # The mentee answers (the answers stay in feedback); only the mentor is reminded again.
    deliver(SERVICE, world.rt, [survey_answered(world, "mentee")], topic=FEEDBACK)
    assert Timers(world.rt).run_once(second - SECOND) == 0
    assert Timers(world.rt).run_once(second + SECOND) == 1
    assert Timers(world.rt).run_once(second + dt.timedelta(days=2)) == 0
    send(world, smtp)
    tomorrow = "Reminder: your Resident Peer Mentoring survey is due tomorrow"
    assert subjects(smtp, world, "mentor") == sorted([reminder, tomorrow])
    assert subjects(smtp, world, "mentee") == [reminder]
    assert len(queued(world, "survey_reminder")) == 3
    for event in base.stored(world, "NotificationQueued"):
        assert "PRIVATE-ANSWER" not in str(event.payload)
    with world.rt.reading() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(rm.survey_reminders)).scalar_one() == 0  # fmt: skip


def test_reminders_skip_who_answered_first_and_times_already_past(world, smtp):
    pair = paired(world, smtp)
    # Answered before the issue arrived (another partition): no reminders for the mentee.
    deliver(SERVICE, world.rt, [survey_answered(world, "mentee", "instance-2")], topic=FEEDBACK)
    soon = utcnow().date() + dt.timedelta(days=3)  # three days before is today: too soon
    deliver(SERVICE, world.rt, [survey_issued(world, pair, soon, "instance-2")], topic=FEEDBACK)
    with world.rt.reading() as conn:
        rows = conn.execute(sa.select(rm.survey_reminders)).all()
    assert [(r.person_id, r.days_before) for r in rows] == [(world.people["mentor"]["id"], 1)]
    run_at = rows[0].run_at.replace(tzinfo=rows[0].run_at.tzinfo or dt.UTC)
    assert run_at == at_nine(soon - dt.timedelta(days=1))

    # A worker down past the due date sends nothing late.
    assert Timers(world.rt).run_once(at_nine(soon + dt.timedelta(days=1))) == 0
    assert queued(world, "survey_reminder") == []


class Killed(BaseException):
    """The process dying: not an Exception, so nothing catches it."""


def test_a_timer_round_killed_midway_loses_nothing_and_repeats_nothing(world, smtp, monkeypatch):
    pair = paired(world, smtp)
    due_on = utcnow().date() + dt.timedelta(days=10)
    deliver(SERVICE, world.rt, [survey_issued(world, pair, due_on)], topic=FEEDBACK)
    send(world, smtp)
    smtp.mailbox.messages.clear()
    first = at_nine(due_on - dt.timedelta(days=3))

    real_queue, calls = reminders.queue, []

    def dies_on_the_second(*args, **kwargs):
        calls.append(args[2])
        if len(calls) == 2:
            raise Killed  # inside the second reminder's transaction
        return real_queue(*args, **kwargs)

    monkeypatch.setattr(reminders, "queue", dies_on_the_second)
    with pytest.raises(Killed):
        Timers(world.rt).run_once(first + SECOND)
    monkeypatch.setattr(reminders, "queue", real_queue)
    assert len(queued(world, "survey_reminder")) == 1  # the first committed, the second not

    assert Timers(world.rt).run_once(first + dt.timedelta(minutes=5)) == 1  # the one left
    assert Timers(world.rt).run_once(first + dt.timedelta(minutes=5)) == 0
    send(world, smtp)
    assert received(smtp, world, "Reminder") == {"mentor": 1, "mentee": 1}


def test_an_old_survey_issue_is_read_with_the_default_fourteen_days_to_answer(world, smtp):
    pair = paired(world, smtp)
    # Version 1 carried the day of issue as `due_on`.
    old = Envelope(
        event_id=new_id(), event_type="SurveyIssued", schema_version=1,
        stream_id="survey-instance-old", stream_version=1,
        institution_id=world.institution["id"], actor=dict(SYSTEM_ACTOR), occurred_at=utcnow(),
        correlation_id=new_id(), causation_id=None,
        payload={
            "instance_id": "old", "schedule_id": "s", "template_id": "t",
            "cycle_id": world.cycle["id"], "month": 6, "due_on": "2030-05-01",
            "recipients": members(world, pair),
        },
    ).sealed(GENESIS_HASH)  # fmt: skip
    deliver(SERVICE, world.rt, [old], topic=FEEDBACK)
    send(world, smtp)
    [mail] = smtp.mailbox.to(address(world, "mentee"))
    assert "please answer it by 2030-05-15" in notices.body(mail)[0]


def test_a_schedule_sets_the_days_to_answer_and_old_schedules_get_fourteen():
    s = SurveySchedule("s1")
    s.schedule("t1", "c1", [6], "coord", days_to_answer=7)
    assert s.pending[0].payload["days_to_answer"] == 7
    issue = SurveyInstance("i1")
    issue.issue("s1", "t1", "c1", 6, dt.date(2030, 7, 1), [], days_to_answer=7)
    payload = feedback.registry.get("SurveyIssued").validate(issue.pending[0].payload)
    assert (payload["issued_on"], payload["due_on"]) == ("2030-07-01", "2030-07-08")
    scheduled = feedback.registry.get("SurveyScheduled")
    assert scheduled.upcast({"schedule_id": "s", "months": [6]}, 1)["days_to_answer"] == 14


# --- pairs that do not meet ---------------------------------------------------------------------


def test_a_pair_with_no_meeting_is_told_once_then_its_coordinators(world, staff, smtp):
    pair = paired(world, smtp, staff.events)
    paired_on = pair.occurred_at.astimezone(CHICAGO).date()
    # The cycle asks to "meet at least once a month": 30 days, then coordinators 15 days later.
    told, escalated = at_nine(paired_on + dt.timedelta(days=30)), at_nine(paired_on + dt.timedelta(days=45))  # fmt: skip
    timers = Timers(world.rt)
    assert timers.run_once(told - SECOND) == 0
    assert timers.run_once(told + SECOND) == 2
    assert timers.run_once(told + SECOND) == 0
    assert Timers(world.rt).run_once(told + dt.timedelta(days=1)) == 0  # restarted
    send(world, smtp)
    subject = "No Resident Peer Mentoring meeting logged for 30 days"
    assert received(smtp, world, subject) == {"mentor": 1, "mentee": 1}
    [mail] = smtp.mailbox.to(address(world, "mentee"))
    text = notices.body(mail)[0]
    assert "since you were paired with Dana Mentor" in text and "/me/meetings" in text
    assert "Meet at least once a month." in text

    assert timers.run_once(escalated - SECOND) == 0
    assert timers.run_once(escalated + SECOND) == 2
    assert Timers(world.rt).run_once(escalated + dt.timedelta(days=30)) == 0
    send(world, smtp)
    # The mentor coordinates too, but is in the pair; the revoked and the other institution's
    # coordinators are not told.
    escalation = "A Resident Peer Mentoring pair has logged no meeting for 45 days"
    assert received(smtp, world, escalation) == {"coordinator": 1, "program_coordinator": 1}
    [to_coordinator] = [m for m in smtp.mailbox.to(address(world, "coordinator")) if m["Subject"] == escalation]  # fmt: skip
    text = notices.body(to_coordinator)[0]
    assert "Dana Mentor and Sam Mentee" in text and "reminded 15 days ago" in text

    # They meet: the next gap counts from that meeting, and is told of once in its turn.
    met_on = paired_on + dt.timedelta(days=50)
    deliver(SERVICE, world.rt, [meeting_logged(world, pair, met_on)], topic=FEEDBACK)
    next_time = at_nine(met_on + dt.timedelta(days=30))
    assert Timers(world.rt).run_once(next_time - SECOND) == 0
    assert Timers(world.rt).run_once(next_time + SECOND) == 2
    smtp.mailbox.messages.clear()
    send(world, smtp)
    [mail] = [m for m in smtp.mailbox.to(address(world, "mentee")) if m["Subject"] == subject]
    assert f"since the last meeting logged with Dana Mentor in Resident Peer Mentoring (on {met_on.isoformat()})" in notices.body(mail)[0]  # fmt: skip
    assert len(queued(world, "no_meeting")) == 4 and len(queued(world, "pair_not_meeting")) == 2


def test_meetings_arriving_first_closed_cycles_and_ended_pairs(world, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    pair = notices.pair_created(world)
    paired_on = pair.occurred_at.astimezone(CHICAGO).date()
    met_on = paired_on + dt.timedelta(days=5)
    # The meeting arrives before its pair (another partition): the gap starts at the meeting.
    deliver(SERVICE, world.rt, [meeting_logged(world, pair, met_on)], topic=FEEDBACK)
    deliver(SERVICE, world.rt, [pair], topic=PAIRING)
    assert Timers(world.rt).run_once(at_nine(paired_on + dt.timedelta(days=30)) + SECOND) == 0
    due = at_nine(met_on + dt.timedelta(days=30))

    closed = envelope(world, enrollment.registry, "CycleClosed", f"cycle-{world.cycle['id']}", {"cycle_id": world.cycle["id"], "program_id": world.program["id"]})  # fmt: skip
    deliver(SERVICE, world.rt, [closed])
    assert Timers(world.rt).run_once(due + SECOND) == 0  # a closed cycle: no alerts
    reopened = envelope(world, enrollment.registry, "CycleReopened", f"cycle-{world.cycle['id']}", {"cycle_id": world.cycle["id"], "program_id": world.program["id"]})  # fmt: skip
    deliver(SERVICE, world.rt, [reopened])
    assert Timers(world.rt).run_once(due + SECOND) == 2  # reopened: the alert resumes
    ended = envelope(world, pairing.registry, "PairEnded", pair.stream_id, {
        "pair_id": pair.payload["pair_id"], "cycle_id": world.cycle["id"],
        "mentee_id": world.people["mentee"]["id"], "mentor_id": world.people["mentor"]["id"],
        "reason": "rematched",
    })  # fmt: skip
    deliver(SERVICE, world.rt, [ended], topic=PAIRING)
    later = met_on + dt.timedelta(days=60)
    deliver(SERVICE, world.rt, [meeting_logged(world, pair, later)], topic=FEEDBACK)
    assert Timers(world.rt).run_once(due + dt.timedelta(days=200)) == 0  # ended: never again
    assert len(queued(world, "no_meeting")) == 2


def test_how_long_a_pair_may_go_without_meeting(
    world, smtp, monkeypatch, client, admin, enrollment_app
):
    assert schedule.expected_meeting_days("Meet at least once a month.") == 30
    assert schedule.expected_meeting_days("Monthly") == 30
    assert schedule.expected_meeting_days("Every 2 weeks, 30 minutes at least") == 14
    assert schedule.expected_meeting_days("fortnightly coffee") == 14
    assert schedule.expected_meeting_days("Once a week") == 7
    assert schedule.expected_meeting_days("Whenever you like") is None
    # A cycle that states no rhythm: NOTIFY_NO_MEETING_DAYS, and half of it more for coordinators.
    monkeypatch.setenv("NOTIFY_NO_MEETING_DAYS", "10")
    cycle = client.post(f"/api/programs/{world.program['id']}/cycles", json={"name": "2027-28", "meeting_expectations": "As you like"}, headers=admin)  # fmt: skip
    assert cycle.status_code == 201, cycle.json
    smtp.start()
    deliver(SERVICE, world.rt, enrollment_events(enrollment_app))
    pair = notices.pair_created(world)
    pair = envelope(world, pairing.registry, "PairCreated", pair.stream_id, {**pair.payload, "cycle_id": cycle.json["id"]})  # fmt: skip
    deliver(SERVICE, world.rt, [pair], topic=PAIRING)
    paired_on = pair.occurred_at.astimezone(CHICAGO).date()
    with world.rt.reading() as conn:
        row = conn.execute(sa.select(rm.pair_watch)).one()
    alert = row.next_alert_at.replace(tzinfo=row.next_alert_at.tzinfo or dt.UTC)
    assert alert == at_nine(paired_on + dt.timedelta(days=10))
    assert Timers(world.rt).run_once(alert + SECOND) == 2
    with world.rt.reading() as conn:
        row = conn.execute(sa.select(rm.pair_watch)).one()
    assert row.next_alert_at.replace(tzinfo=dt.UTC) == at_nine(paired_on + dt.timedelta(days=15))


# --- weekly digests -----------------------------------------------------------------------------


def test_a_weekly_digest_collects_the_weeks_notices_on_monday_at_seven(world, smtp):
    mentee = world.people["mentee"]["id"]
    chosen = world.api.put(
        f"/api/people/{mentee}/notification-preferences",
        json={"preferences": {"enrolled": "weekly", "request_answered": "weekly", "meeting_logged": "digest"}},
        headers=world.headers["mentee"],
    )  # fmt: skip
    assert chosen.status_code == 200 and chosen.json["preferences"]["enrolled"] == "weekly"
    smtp.start()
    deliver(SERVICE, world.rt, world.events)
    pair = notices.pair_created(world)
    deliver(SERVICE, world.rt, [pair], topic=PAIRING)
    accepted = notices.request_event(world, "RequestAccepted")
    deliver(SERVICE, world.rt, [accepted, accepted], topic=PAIRING)
    meeting = meeting_logged(world, pair, utcnow().date())
    deliver(SERVICE, world.rt, [meeting], topic=FEEDBACK)
    sender = delivery.Sender(world.rt, base.settings(smtp.port))
    sender.run_once()  # emails now: the mentor's, and the mentee's mandatory pairing mail
    assert subjects(smtp, world, "mentee") == ["Your Resident Peer Mentoring pairing: meet Dana Mentor"]  # fmt: skip

    with world.rt.reading() as conn:
        runs = dict(conn.execute(sa.select(rm.digests.c.channel, rm.digests.c.next_run_at)).all())
    weekly, daily = (runs[c].replace(tzinfo=runs[c].tzinfo or dt.UTC) for c in ("weekly", "digest"))
    local = weekly.astimezone(CHICAGO)
    assert (local.weekday(), local.hour, local.minute) == (0, 7, 0)  # Monday 07:00
    assert utcnow() < weekly <= utcnow() + dt.timedelta(days=7)
    assert daily.astimezone(CHICAGO).hour == 7 and daily <= weekly

    smtp.mailbox.messages.clear()
    assert sender.run_once(now=weekly - SECOND) == (1 if daily < weekly else 0)  # the daily one
    assert delivery.Sender(world.rt, base.settings(smtp.port)).run_once(now=weekly + SECOND) == (1 if daily < weekly else 2)  # fmt: skip
    assert sender.run_once(now=weekly + dt.timedelta(hours=1)) == 0
    mails = {m["Subject"]: m for m in smtp.mailbox.to(address(world, "mentee"))}
    weekly_subject = f"Your {base.INSTITUTION} weekly mentorship digest: 2 update(s)"
    daily_subject = f"Your {base.INSTITUTION} mentorship digest: 1 update(s)"
    assert set(mails) == {weekly_subject, daily_subject}
    text = notices.body(mails[weekly_subject])[0]
    assert "since your last weekly digest" in text
    assert "You are enrolled in Resident Peer Mentoring" in text
    assert "Dana Mentor accepted your mentorship request" in text
    assert "logged a meeting" in notices.body(mails[daily_subject])[0]
    assert [e.payload["channel"] for e in base.stored(world, "DigestSent")] in (["digest", "weekly"], ["weekly", "digest"])  # fmt: skip
    assert base.deliveries_by_channel(world, "weekly") == {"sent"}


def test_a_daily_digest_waiting_before_the_upgrade_still_goes_out(database_url, request, tmp_path):
    """Digests are keyed by person and channel since migration 0004."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'notifications.db'}"
    else:
        url = request.getfixturevalue("pg_database_factory")("notify")
    upgrade(SERVICE.migrations, url, "0003")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO digests (recipient_id, next_run_at, attempts) "
                "VALUES ('p-1', '2030-01-01 13:00:00', 0)"
            )
        )
    upgrade(SERVICE.migrations, url)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(rm.digests.c.recipient_id, rm.digests.c.channel)).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("p-1", "digest")]


# --- requests, unmatched mentees, concerns still open -------------------------------------------


def test_an_expired_request_and_an_unmatched_mentee_are_told_once(world, staff, smtp):
    smtp.start()
    deliver(SERVICE, world.rt, staff.events)
    expired = notices.request_event(world, "RequestExpired")
    reason = "every ranked mentor declined, did not answer in time, or was full"
    unmatched = envelope(world, pairing.registry, "MenteeUnmatched", f"cycle-{world.cycle['id']}", {
        "round_id": "round-1", "cycle_id": world.cycle["id"],
        "mentee_id": world.people["mentee"]["id"], "reason": reason,
    })  # fmt: skip
    deliver(SERVICE, world.rt, [expired, unmatched, expired, unmatched], topic=PAIRING)
    send(world, smtp)

    assert received(smtp, world, "did not answer your mentorship request in time") == {"mentee": 1}
    assert received(smtp, world, "You have no Resident Peer Mentoring mentor yet") == {"mentee": 1}
    # Every coordinator of the program, the mentor among them (they coordinate too).
    assert received(smtp, world, "Sam Mentee has no mentor in Resident Peer Mentoring yet") == {
        "coordinator": 1, "program_coordinator": 1, "mentor": 1,
    }  # fmt: skip
    [to_coordinator] = [m for m in smtp.mailbox.to(address(world, "coordinator")) if "no mentor" in m["Subject"]]  # fmt: skip
    text = notices.body(to_coordinator)[0]
    assert reason in text and "mentee@northwind.example" in text
    assert f"/coordinator/cycles/{world.cycle['id']}/pairing/people/{world.people['mentee']['id']}" in text  # fmt: skip


def test_a_coordinator_appointed_later_hears_of_open_concerns_once(
    world, staff, smtp, client, admin, enrollment_app
):
    smtp.start()
    deliver(SERVICE, world.rt, staff.events)
    pair = notices.pair_created(world)
    deliver(SERVICE, world.rt, [pair], topic=PAIRING)
    still_open, closed = notices.concern_raised(world, pair), notices.concern_raised(world, pair)
    resolved = envelope(world, feedback.registry, "ConcernResolved", closed.stream_id, {
        "concern_id": closed.payload["concern_id"], "resolved_by": world.people["coordinator"]["id"],
        "note": "Talked to both.",
    })  # fmt: skip
    deliver(SERVICE, world.rt, [still_open, closed, resolved], topic=FEEDBACK)
    send(world, smtp)
    assert received(smtp, world, "A concern needs") == {"coordinator": 2, "program_coordinator": 2}

    inst = world.institution["id"]
    late = client.post("/api/people", json={"institution_id": inst, "name": "Lee Late", "email": "late@staff.example", "training_level": "faculty"}, headers=admin).json  # fmt: skip
    for person, body in (
        (late["id"], {"role": "coordinator", "institution_id": inst}),
        # Already told of it: a second grant tells them nothing new.
        (world.people["coordinator"]["id"], {"role": "coordinator", "institution_id": inst, "program_id": world.program["id"]}),
    ):  # fmt: skip
        assert (
            client.post(f"/api/people/{person}/roles", json=body, headers=admin).status_code == 200
        )
    world.people["late"] = late
    events = enrollment_events(enrollment_app)
    deliver(SERVICE, world.rt, events)
    deliver(SERVICE, world.rt, events)  # delivered twice
    send(world, smtp)

    assert received(smtp, world, "A concern needs") == {
        "coordinator": 2, "program_coordinator": 2, "late": 1,
    }  # fmt: skip
    [mail] = smtp.mailbox.to("late@staff.example")
    text, html = notices.body(mail)
    assert f"/concerns/{still_open.payload['concern_id']}" in text
    assert notices.CONCERN_TEXT not in text + html
