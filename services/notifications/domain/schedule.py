"""When things are due, in the institution's own time: digests, survey reminders, alerts for pairs
that do not meet and how often a cycle expects its pairs to meet. Pure functions, no database."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

DIGEST_HOUR = 7  # digests go out at 07:00 in the recipient's institution's time zone
REMINDER_HOUR = 9  # reminders and alerts at 09:00 institution time
WEEKLY_DIGEST_DAY = 0  # Monday (date.weekday())
REMINDER_DAYS = (3, 1)  # survey reminders this many days before the due date
NO_MEETING_DAYS = 30  # alert after this many days without a meeting, unless the cycle says


def zone(time_zone: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def at_local_hour(day: dt.date, hour: int, time_zone: str | None) -> dt.datetime:
    """`hour`:00 on `day` in the time zone, in UTC."""
    local = dt.datetime(day.year, day.month, day.day, hour, tzinfo=zone(time_zone))
    return local.astimezone(dt.UTC)


def local_date(at: dt.datetime, time_zone: str | None) -> dt.date:
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(zone(time_zone)).date()


def next_digest_time(
    after: dt.datetime, time_zone: str | None, hour: int = DIGEST_HOUR, weekly: bool = False
) -> dt.datetime:
    """The first `hour`:00 local time strictly after `after` (on a Monday if weekly), in UTC.
    Calendar days, not 24 hours, so daylight-saving changes keep the local hour."""
    day = local_date(after, time_zone)
    while True:
        if not weekly or day.weekday() == WEEKLY_DIGEST_DAY:
            candidate = at_local_hour(day, hour, time_zone)
            if candidate > after:
                return candidate
        day += dt.timedelta(days=1)


def local_time(at_iso: str, time_zone: str) -> str:
    """An ISO 8601 instant as the institution reads it: 'Friday 4 December 2026, 17:00 CST'."""
    at = dt.datetime.fromisoformat(at_iso.replace("Z", "+00:00"))
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    local = at.astimezone(zone(time_zone))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"


def reminder_times(
    due_on: dt.date, time_zone: str | None, issued_at: dt.datetime
) -> list[tuple[int, dt.datetime]]:
    """(days before, when) of each survey reminder at REMINDER_HOUR institution time, but none
    within a day of the survey itself."""
    times = []
    for days_before in REMINDER_DAYS:
        run_at = at_local_hour(due_on - dt.timedelta(days=days_before), REMINDER_HOUR, time_zone)
        if run_at > issued_at + dt.timedelta(days=1):
            times.append((days_before, run_at))
    return times


def allowed_gap_days(expectations: str | None, default_days: int) -> int:
    """How many days a pair may go without a meeting: what the cycle's meeting expectations say,
    else `default_days`."""
    expected = expected_meeting_days(expectations) if expectations is not None else None
    return max(expected or default_days, 1)


def escalation_days(days: int, configured_days: int = 0) -> int:
    """How long after the members are told the coordinators are: `configured_days`, else half
    the allowed gap."""
    return max(configured_days or days // 2, 1)


def no_meeting_alert_at(
    gap_from: str, stage: int, days: int, escalate_days: int, time_zone: str | None
) -> dt.datetime | None:
    """When a gap that began on `gap_from` reaches `stage`'s alert, at REMINDER_HOUR institution
    time: 0 the members (after the allowed days), 1 the coordinators (some days later)."""
    if stage >= 2:
        return None
    after = days + (escalate_days if stage == 1 else 0)
    day = dt.date.fromisoformat(gap_from) + dt.timedelta(days=after)
    return at_local_hour(day, REMINDER_HOUR, time_zone)


_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8}
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30}
_PHRASES = (
    (r"\b(fortnightly|bi-?weekly|every other week|twice a month|two times a month)\b", 14),
    (r"\b(weekly|once a week|every week)\b", 7),
    (r"\b(monthly|once a month|every month|once per month)\b", 30),
    (r"\b(quarterly|once a quarter|every quarter)\b", 90),
)


def expected_meeting_days(expectations: str) -> int | None:
    """How many days a cycle's stated meeting expectations allow between meetings ("Meet at
    least once a month" is 30, "every 2 weeks" 14); None when the text states no rhythm."""
    text = (expectations or "").lower()
    every = re.search(
        r"\bevery\s+(\d+|one|two|three|four|five|six|eight)\s+(day|week|month)s?\b", text
    )
    if every:
        count = every.group(1)
        number = int(count) if count.isdigit() else _NUMBERS[count]
        days = number * _UNIT_DAYS[every.group(2)]
        return days if days > 0 else None
    for pattern, days in _PHRASES:
        if re.search(pattern, text):
            return days
    return None
