"""Meetings on request, as the domain rules them: future times only, one to three of them, only
members propose and answer (a group's coach sets its times), a request is answered once, and a
scheduled meeting's calendar sequence grows with every change. Times offered from availability."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from services.eventkit.aggregate import DomainError, NotFound
from services.eventkit.contracts.feedback import registry
from services.feedback.domain.meeting_requests import MeetingRequest
from services.feedback.domain.meeting_times import suggest
from services.feedback.domain.relationships import Relationship

NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)  # a Tuesday
SOON = [NOW + dt.timedelta(days=d, hours=2) for d in (1, 2, 3)]
PAIR = Relationship(
    id="p1", cycle_id="c1", kind="pair", members={"mentor": "mentor", "mentee": "mentee"},
    active=True, started_on=dt.date(2026, 1, 1),
)  # fmt: skip
GROUP = Relationship(
    id="g1", cycle_id="c1", kind="group",
    members={"coach": "mentor", "a": "mentee", "b": "mentee"},
    active=True, started_on=dt.date(2026, 1, 1),
)  # fmt: skip


def _types(request: MeetingRequest) -> list[str]:
    """Every recorded payload passes its published contract."""
    for e in request.pending:
        registry.get(e.event_type).validate(e.payload)
    return [e.event_type for e in request.pending]


def _requested(rel=PAIR, by="mentee", options=SOON[:2], **kw) -> MeetingRequest:
    r = MeetingRequest("r1")
    args = {"duration_minutes": 45, "mode": "virtual", "time_zone": "America/Chicago", **kw}
    r.propose(rel, by, options, NOW, **args)
    return r


def test_a_mentee_proposes_and_the_mentor_accepts_one_time():
    r = _requested(place=" https://meet.example/abc ", note="CV review")
    r.accept(PAIR, "mentor", SOON[1], NOW)
    assert _types(r) == ["MeetingRequested", "MeetingRequestAccepted"]
    accepted = r.pending[1].payload
    assert accepted["starts_at"] == "2026-03-12T14:00:00.000000Z"
    assert accepted["ends_at"] == "2026-03-12T14:45:00.000000Z"
    assert accepted["organizer"] == "mentee" and accepted["attendees"] == ["mentee", "mentor"]
    assert accepted["place"] == "https://meet.example/abc" and accepted["sequence"] == 0


@pytest.mark.parametrize(
    "options, field",
    [
        ([], "options"),
        ([*SOON, NOW + dt.timedelta(days=4)], "options"),
        ([NOW - dt.timedelta(minutes=1)], "options"),
        ([NOW], "options"),
        ([SOON[0], SOON[0]], "options"),
        ([SOON[0].replace(tzinfo=None)], "options"),
    ],
)
def test_times_are_one_to_three_different_ones_in_the_future(options, field):
    with pytest.raises(DomainError) as refused:
        _requested(options=options)
    assert refused.value.field == field


def test_one_to_three_times_may_be_offered():
    assert len(_requested(options=SOON[:1]).options) == 1
    assert len(_requested(options=SOON).options) == 3


def test_only_members_propose_and_answer():
    with pytest.raises(DomainError, match="Only a member"):
        _requested(by="stranger")
    r = _requested()
    with pytest.raises(DomainError, match="Only a member"):
        r.accept(PAIR, "stranger", SOON[0], NOW)
    with pytest.raises(DomainError, match="other member"):
        r.accept(PAIR, "mentee", SOON[0], NOW)
    with pytest.raises(DomainError, match="Only a member"):
        r.decline(PAIR, "stranger")


def test_an_ended_pair_cannot_ask():
    ended = Relationship(**{**PAIR.__dict__, "active": False})
    with pytest.raises(DomainError, match="ended"):
        _requested(rel=ended)


def test_only_an_offered_future_time_is_accepted():
    r = _requested()
    with pytest.raises(DomainError, match="one of the times") as refused:
        r.accept(PAIR, "mentor", SOON[2], NOW)
    assert refused.value.field == "starts_at"
    with pytest.raises(DomainError, match="future"):
        r.accept(PAIR, "mentor", SOON[0], SOON[0] + dt.timedelta(minutes=1))


def test_a_decided_request_cannot_be_answered_twice():
    r = _requested()
    r.decline(PAIR, "mentor", " Away that week ")
    assert r.pending[-1].payload["note"] == "Away that week"
    with pytest.raises(DomainError, match="declined already"):
        r.accept(PAIR, "mentor", SOON[0], NOW)
    accepted = _requested()
    accepted.accept(PAIR, "mentor", SOON[0], NOW)
    with pytest.raises(DomainError, match="scheduled already"):
        accepted.decline(PAIR, "mentor")
    with pytest.raises(DomainError, match="scheduled already"):
        accepted.accept(PAIR, "mentor", SOON[1], NOW)


def test_in_a_group_the_coach_proposes_and_sets_the_time():
    with pytest.raises(DomainError, match="coach"):
        _requested(rel=GROUP, by="a")
    r = _requested(rel=GROUP, by="coach")
    with pytest.raises(DomainError, match="coach sets"):
        r.accept(GROUP, "a", SOON[0], NOW)
    r.accept(GROUP, "coach", SOON[0], NOW)
    assert r.pending[-1].payload["attendees"] == ["a", "b", "coach"]
    with pytest.raises(DomainError, match="coach"):
        r.cancel(GROUP, "b")


def test_a_scheduled_meeting_is_rescheduled_then_cancelled_with_a_growing_sequence():
    r = _requested()
    r.accept(PAIR, "mentor", SOON[0], NOW)
    with pytest.raises(DomainError, match="different time"):
        r.reschedule(PAIR, "mentee", SOON[0], NOW)
    with pytest.raises(DomainError, match="future"):
        r.reschedule(PAIR, "mentee", NOW - dt.timedelta(hours=1), NOW)
    r.reschedule(PAIR, "mentee", SOON[2], NOW)
    r.cancel(PAIR, "mentor")
    assert _types(r)[-2:] == ["MeetingRescheduled", "MeetingRequestCancelled"]
    assert [e.payload.get("sequence") for e in r.pending] == [None, 0, 1, 2]
    cancelled = r.pending[-1].payload
    assert cancelled["was_scheduled"] and cancelled["starts_at"] == "2026-03-13T14:00:00.000000Z"
    with pytest.raises(DomainError, match="cancelled already"):
        r.cancel(PAIR, "mentee")
    with pytest.raises(DomainError, match="Only a scheduled"):
        r.reschedule(PAIR, "mentee", SOON[1], NOW)


def test_only_who_asked_withdraws_a_pending_request():
    r = _requested()
    with pytest.raises(DomainError, match="who asked"):
        r.cancel(PAIR, "mentor")
    r.cancel(PAIR, "mentee")
    assert not r.pending[-1].payload["was_scheduled"]


def test_an_unknown_request_is_not_found():
    with pytest.raises(NotFound):
        MeetingRequest("nope").accept(PAIR, "mentor", SOON[0], NOW)


def test_times_are_offered_from_the_shared_slots_first_in_the_institution_time_zone():
    chicago = ZoneInfo("America/Chicago")
    times = suggest([["wed-pm", "thu-am"], ["wed-pm", "fri-eve"]], "America/Chicago", NOW, 3)
    # Shared: Wednesday afternoons (11 and 18 March); then either's: Thursday 12 March morning.
    assert times == [
        dt.datetime(2026, 3, 11, 14, tzinfo=chicago),
        dt.datetime(2026, 3, 18, 14, tzinfo=chicago),
        dt.datetime(2026, 3, 12, 10, tzinfo=chicago),
    ]
    assert times[0].astimezone(dt.UTC).hour == 19  # CDT from 8 March: UTC-5
    assert suggest([[], []], "UTC", NOW) == []
    assert suggest([["mon-am"], []], "UTC", NOW, 1) == [dt.datetime(2026, 3, 16, 10, tzinfo=dt.UTC)]


def test_an_invitation_is_valid_icalendar_with_its_zone_and_a_cancel_keeps_its_uid():
    from services.notifications.domain.invitations import Invitation, Person, ics, parse

    organizer, other = Person('Sam "S" Mentee', "sam@x.org"), Person("Dana Mentor", "dana@x.org")
    start = dt.datetime(2026, 3, 11, 19, tzinfo=dt.UTC)
    invite = Invitation(
        request_id="r1", sequence=0, starts_at=start, ends_at=start + dt.timedelta(minutes=45),
        time_zone="America/Chicago", summary="Peer meeting: Dana Mentor and Sam Mentee",
        organizer=organizer, attendees=[other, organizer], location="Room 4; floor 2",
        description="CV review, applications\n" + "long " * 30,
    )  # fmt: skip
    text = ics(invite, NOW)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    lines = parse(text)
    values = {name: value for name, _, value in lines}
    params = {name: p for name, p, _ in lines}
    assert values["METHOD"] == "REQUEST" and values["UID"] == "meeting-request-r1@tandem.invalid"
    assert values["DTSTART"] == "20260311T140000" and params["DTSTART"]["TZID"] == "America/Chicago"
    assert values["DTEND"] == "20260311T144500" and values["TZOFFSETTO"] == "-0500"
    assert values["LOCATION"] == "Room 4\\; floor 2"
    assert values["DESCRIPTION"].startswith("CV review\\, applications\\nlong long")
    assert params["ORGANIZER"]["CN"] == "Sam S Mentee"
    attendees = [(p["PARTSTAT"], v) for n, p, v in lines if n == "ATTENDEE"]
    assert attendees == [("NEEDS-ACTION", "mailto:dana@x.org"), ("ACCEPTED", "mailto:sam@x.org")]
    cancel = {
        n: v
        for n, _, v in parse(
            ics(Invitation(**{**invite.__dict__, "sequence": 2, "cancelled": True}), NOW)
        )
    }
    assert (cancel["METHOD"], cancel["STATUS"], cancel["SEQUENCE"]) == ("CANCEL", "CANCELLED", "2")
    assert cancel["UID"] == values["UID"]
