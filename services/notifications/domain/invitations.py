"""iCalendar (RFC 5545) invitations for scheduled meetings: METHOD:REQUEST for a new or moved
meeting, METHOD:CANCEL when it is called off. The UID is the request's, so a calendar updates the
same event, and SEQUENCE grows with every change. Pure: text in, text out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

PRODID = "-//Tandem//Mentorship meetings//EN"
UID_DOMAIN = "tandem.invalid"  # a UID only needs to be globally unique, not resolvable


@dataclasses.dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclasses.dataclass(frozen=True)
class Invitation:
    request_id: str
    sequence: int
    starts_at: dt.datetime  # aware
    ends_at: dt.datetime
    time_zone: str
    summary: str
    organizer: Person
    attendees: Sequence[Person]
    location: str = ""
    description: str = ""
    cancelled: bool = False

    @property
    def uid(self) -> str:
        return f"meeting-request-{self.request_id}@{UID_DOMAIN}"

    @property
    def method(self) -> str:
        return "CANCEL" if self.cancelled else "REQUEST"


def escape(text: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newlines escaped."""
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _param(value: str) -> str:
    """A parameter value (a CN): quoted, with the quotes it may not hold dropped."""
    return '"' + value.replace('"', "").replace("\r", " ").replace("\n", " ") + '"'


def fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF and a space (never inside a character)."""
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(value: dt.datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def _offset(value: dt.timedelta | None) -> str:
    minutes = int((value or dt.timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _timezone(invitation: Invitation, zone: ZoneInfo) -> list[str]:
    """The zone as it stands at the meeting: one observance with the offset then, which is all a
    single, non-recurring event needs to be placed right."""
    start = invitation.starts_at.astimezone(zone)
    kind = "DAYLIGHT" if start.dst() else "STANDARD"
    offset = _offset(start.utcoffset())
    return [
        "BEGIN:VTIMEZONE",
        f"TZID:{invitation.time_zone}",
        f"BEGIN:{kind}",
        "DTSTART:19700101T000000",
        f"TZOFFSETFROM:{offset}",
        f"TZOFFSETTO:{offset}",
        f"TZNAME:{start.tzname() or invitation.time_zone}",
        f"END:{kind}",
        "END:VTIMEZONE",
    ]


def _who(prop: str, person: Person, extra: str = "") -> str:
    return f"{prop};CN={_param(person.name)}{extra}:mailto:{person.email}"


def _attendee(person: Person, organizer: Person) -> str:
    status = "ACCEPTED" if person == organizer else "NEEDS-ACTION"
    return _who("ATTENDEE", person, f";ROLE=REQ-PARTICIPANT;PARTSTAT={status}")


def ics(invitation: Invitation, stamp: dt.datetime) -> str:
    """The calendar object, CRLF-terminated lines; `stamp` is when it was made (DTSTAMP)."""
    zone = ZoneInfo(invitation.time_zone)
    tzid = f";TZID={invitation.time_zone}"
    status = "CANCELLED" if invitation.cancelled else "CONFIRMED"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{invitation.method}",
        *_timezone(invitation, zone),
        "BEGIN:VEVENT",
        f"UID:{invitation.uid}",
        f"SEQUENCE:{invitation.sequence}",
        f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART{tzid}:{_local(invitation.starts_at, zone)}",
        f"DTEND{tzid}:{_local(invitation.ends_at, zone)}",
        f"SUMMARY:{escape(invitation.summary)}",
        *([f"LOCATION:{escape(invitation.location)}"] if invitation.location else []),
        *([f"DESCRIPTION:{escape(invitation.description)}"] if invitation.description else []),
        f"STATUS:{status}",
        _who("ORGANIZER", invitation.organizer),
        *(_attendee(person, invitation.organizer) for person in invitation.attendees),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)


def parse(text: str) -> list[tuple[str, dict[str, str], str]]:
    """The content lines of a calendar object as (name, parameters, value), unfolded: what a
    reader of the invitation sees (tests and the web read it back with this)."""
    unfolded = text.replace("\r\n ", "").replace("\r\n\t", "")
    out = []
    for line in unfolded.split("\r\n"):
        if not line:
            continue
        head, _, value = _split_value(line)
        name, *params = head.split(";")
        pairs = dict(p.split("=", 1) for p in params)
        out.append((name.upper(), {k.upper(): v.strip('"') for k, v in pairs.items()}, value))
    return out


def _split_value(line: str) -> tuple[str, str, str]:
    """Split at the first colon outside a quoted parameter value."""
    quoted = False
    for i, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            return line[:i], ":", line[i + 1 :]
    return line, "", ""
