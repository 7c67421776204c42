"""Times to offer for a meeting, from the members' availability grids (half-day slots such as
"mon-am", "thu-eve") in the institution's time zone: the slots every member shares first, then
those any member gave, over the next two weeks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The local hour a meeting in each part of the day is offered at.
PART_HOURS = {"am": 10, "pm": 14, "eve": 18}
HORIZON_DAYS = 14


def suggest(
    grids: Sequence[Iterable[str]],
    time_zone: str,
    now: dt.datetime,
    count: int = 6,
) -> list[dt.datetime]:
    """Up to `count` future local times (aware, in `time_zone`), soonest first; slots shared by
    every grid are preferred, and a grid left empty does not narrow them."""
    given = [set(g) for g in grids if g]
    if not given:
        return []
    shared = set.intersection(*given)
    anyone = set.union(*given)
    zone = ZoneInfo(time_zone)
    found = _times(shared, zone, now, count)
    if len(found) < count:
        extra = [t for t in _times(anyone - shared, zone, now, count) if t not in found]
        found += extra[: count - len(found)]
    return found


def _times(slots: set[str], zone: ZoneInfo, now: dt.datetime, count: int) -> list[dt.datetime]:
    local_now = now.astimezone(zone)
    found: list[dt.datetime] = []
    for offset in range(1, HORIZON_DAYS + 1):  # from tomorrow: today's slots may have passed
        day = local_now.date() + dt.timedelta(days=offset)
        for part, hour in PART_HOURS.items():
            if f"{DAYS[day.weekday()]}-{part}" in slots:
                found.append(dt.datetime.combine(day, dt.time(hour), tzinfo=zone))
                if len(found) == count:
                    return found
    return found


def local(value: dt.datetime, time_zone: str) -> dt.datetime:
    """`value` as the institution's clock shows it; a naive value is taken as already local."""
    zone = ZoneInfo(time_zone)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
