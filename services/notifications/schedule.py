"""When things are due, in the institution's own time: digests, survey reminders and how often a
cycle expects its pairs to meet. Pure functions, no database."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

DIGEST_HOUR = 7  # digests go out at 07:00 in the recipient's institution's time zone
REMINDER_HOUR = 9  # reminders and alerts at 09:00 institution time
WEEKLY_DIGEST_DAY = 0  # Monday (date.weekday())


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
