"""Notifications' aggregates and timing rules, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from services.eventkit.aggregate import DomainError, NotFound
from services.notifications.domain import schedule
from services.notifications.domain.digest import Digest, digest_id_for
from services.notifications.domain.messages import Rendered
from services.notifications.domain.notification import (
    EMAIL,
    IN_APP,
    WEEKLY,
    Notification,
    channel_for,
    channels_for,
)
from services.notifications.domain.preferences import Preferences, refusal

RENDERED = Rendered(subject="You are enrolled", text="Welcome.", html="<p>Welcome.</p>")


def queued(channels: list[str]) -> Notification:
    notification = Notification("n-1")
    notification.queue("p-1", "enrolled", RENDERED, "p@example.org", channels, "e-1")
    return notification


def test_a_notification_is_queued_once():
    notification = queued([IN_APP, EMAIL])
    assert [e.event_type for e in notification.pending] == ["NotificationQueued"]
    assert notification.pending[0].payload["channels"] == [IN_APP, EMAIL]
    with pytest.raises(DomainError):
        notification.queue("p-1", "enrolled", RENDERED, "", [IN_APP], "e-1")


def test_only_the_recipient_reads_an_in_app_notice_and_once():
    notification = queued([IN_APP])
    with pytest.raises(NotFound):
        notification.mark_read("someone-else")
    notification.mark_read("p-1")
    notification.mark_read("p-1")
    assert [e.event_type for e in notification.pending][1:] == ["NotificationRead"]
    with pytest.raises(NotFound):
        queued([EMAIL]).mark_read("p-1")  # a password link is never in the inbox
    with pytest.raises(NotFound):
        Notification("unknown").mark_read("p-1")


def test_mandatory_kinds_are_emailed_whatever_was_chosen():
    assert channel_for("pair_published", IN_APP) == EMAIL
    assert channel_for("enrolled", WEEKLY) == WEEKLY
    assert channel_for("enrolled", None) == EMAIL
    assert channels_for(EMAIL, "") == [IN_APP]  # no address: the inbox only
    assert channels_for(IN_APP, "p@example.org") == [IN_APP]
    assert refusal("pair_published", IN_APP) is not None
    assert refusal("nonsense", EMAIL) is not None
    assert refusal("enrolled", "pigeon") is not None
    assert refusal("enrolled", IN_APP) is None


def test_preferences_record_only_what_changes():
    preferences = Preferences("p-1")
    preferences.choose({"enrolled": EMAIL})
    assert preferences.pending == []
    preferences.choose({"enrolled": WEEKLY, "meeting_logged": EMAIL})
    assert [e.payload["preferences"] for e in preferences.pending] == [{"enrolled": WEEKLY}]
    assert preferences.channels()["enrolled"] == WEEKLY
    assert preferences.channels()["pair_published"] == EMAIL


def test_a_digest_is_sent_once_under_an_id_derived_from_what_it_collects():
    daily = digest_id_for("p-1", "digest", ["n-1", "n-2"])
    assert daily == digest_id_for("p-1", "digest", ["n-1", "n-2"])
    assert daily != digest_id_for("p-1", WEEKLY, ["n-1", "n-2"])
    digest = Digest(daily)
    digest.send("p-1", "digest", ["n-1", "n-2"], "local", "p@example.org", RENDERED)
    with pytest.raises(DomainError):
        digest.send("p-1", "digest", ["n-1", "n-2"], "local", "p@example.org", RENDERED)


def test_survey_reminders_skip_those_within_a_day_of_the_survey():
    issued = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
    times = schedule.reminder_times(dt.date(2026, 12, 5), "UTC", issued)
    assert times == [(3, dt.datetime(2026, 12, 2, 9, tzinfo=dt.UTC)), (1, dt.datetime(2026, 12, 4, 9, tzinfo=dt.UTC))]  # fmt: skip
    assert [d for d, _ in schedule.reminder_times(dt.date(2026, 12, 3), "UTC", issued)] == [1]


def test_no_meeting_alerts_tell_the_members_then_the_coordinators():
    assert schedule.allowed_gap_days("Meet every 2 weeks", 30) == 14
    assert schedule.allowed_gap_days(None, 30) == 30
    assert schedule.escalation_days(30) == 15
    assert schedule.escalation_days(30, configured_days=4) == 4
    members = schedule.no_meeting_alert_at("2026-01-01", 0, 14, 7, "America/Chicago")
    coordinators = schedule.no_meeting_alert_at("2026-01-01", 1, 14, 7, "America/Chicago")
    assert members == dt.datetime(2026, 1, 15, 15, tzinfo=dt.UTC)  # 09:00 in Chicago
    assert coordinators == dt.datetime(2026, 1, 22, 15, tzinfo=dt.UTC)
    assert schedule.no_meeting_alert_at("2026-01-01", 2, 14, 7, "UTC") is None


def test_a_deadline_reads_in_the_institutions_time():
    assert schedule.local_time("2026-12-04T23:00:00Z", "America/Chicago") == (
        "Friday 4 December 2026, 17:00 CST"
    )
