"""Roster rows: the columns a roster holds and the checks each row's values pass, every problem
reported against the column as the file spells it. Pure: no Flask, no SQLAlchemy, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.eventkit.contracts.enrollment import CONFLICT_KINDS
from services.eventkit.contracts.vocabulary import TRAINING_LEVELS

REQUIRED_COLUMNS = ("name", "email", "role", "training_level")
OPTIONAL_COLUMNS = (
    "specialty",
    "pronouns",
    "interests",
    "goals",
    "languages",
    "meeting_mode",
    "capacity",
    "conflicts",
)
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


# Other headings people commonly use, keyed by normalised heading (see _header_key).
HEADER_ALIASES: dict[str, str] = {
    "e_mail": "email",
    "email_address": "email",
    "e_mail_address": "email",
    "full_name": "name",
    "interest": "interests",
    "language": "languages",
}

# Keys are lower-cased with all whitespace removed.
_ROLES = {
    "mentor": "mentor",
    "mentee": "mentee",
    "coach": "mentor",
    "mentor/coach": "mentor",
    "coach/mentor": "mentor",
}
# Keys are lower-cased with spaces, hyphens and underscores removed ("In-person" -> "inperson").
_MEETING_MODES = {
    "": "either",
    "either": "either",
    "any": "either",
    "both": "either",
    "inperson": "in_person",
    "virtual": "virtual",
    "online": "virtual",
    "remote": "virtual",
}
# Keys are lower-cased with spaces, hyphens and underscores removed ("Line manager" -> "linemanager").
_CONFLICT_KINDS = {
    **{kind.replace("_", ""): kind for kind in CONFLICT_KINDS},
    "other": "personal",
    "manager": "line_manager",
    "assessment": "assessor",
}
CONFLICTS_MAX_COUNT = 20
_TRAINING_LEVELS = {re.sub(r"[\s_-]+", "", level.lower()): level for level in TRAINING_LEVELS}

NAME_MAX = 200
EMAIL_MAX = 254
SPECIALTY_MAX = 200
PRONOUNS_MAX = 50
INTEREST_MAX = 100
INTERESTS_MAX_COUNT = 20
GOALS_MAX = 2000
LANGUAGE_MAX = 50
CAPACITY_MIN, CAPACITY_MAX = 1, 20

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
SEPARATORS = re.compile(r"[\s_-]+")
_LIST_SPLIT = re.compile(r"[;|\r\n]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
_WHOLE_NUMBER = re.compile(r"([0-9]{1,6})(?:\.0+)?")  # spreadsheets sometimes write 3 as "3.0"


@dataclass(frozen=True)
class RosterRow:
    line: int  # physical line where the record starts; the header is line 1
    name: str
    email: str
    role: str
    training_level: str
    specialty: str = ""
    pronouns: str = ""
    interests: tuple[str, ...] = ()
    goals: str = ""
    languages: tuple[str, ...] = ()
    meeting_mode: str = "either"
    capacity: int | None = None
    # (kind, email) of each person this one must never be paired with, in the file's order.
    conflicts: tuple[tuple[str, str], ...] = ()
    # `email` is lower-cased; this is how the file spells it (not part of the row's identity).
    email_as_written: str = field(default="", compare=False)


@dataclass(frozen=True)
class RowError:
    line: int  # 1 (the header line) for file- and header-level problems
    column: str | None  # the heading as the file spells it; None for whole-row or file problems
    message: str


@dataclass
class Header:
    line: int
    columns: list[str | None]  # canonical column per cell position; None for a blank heading
    spelled: dict[str, str]  # canonical column -> heading as the file spells it
    errors: list[RowError] = field(default_factory=list)


class _RowCheck:
    """Collects every problem in one row, each against the column as the file spells it."""

    def __init__(self, line: int, spelled: dict[str, str]) -> None:
        self.line = line
        self.spelled = spelled
        self.errors: list[RowError] = []

    def fail(self, column: str | None, message: str) -> None:
        spelled = None if column is None else self.spelled.get(column, column)
        self.errors.append(RowError(self.line, spelled, message))

    def text(
        self, column: str, label: str, value: str, limit: int, *, one_line: bool = True
    ) -> str:
        if len(value) > limit:
            self.fail(
                column, f"{label} must be at most {limit:,} characters (found {len(value):,})."
            )
        else:
            self.characters(column, label, value, one_line=one_line)
        return value

    def characters(self, column: str, label: str, value: str, *, one_line: bool = True) -> None:
        for ch in _CONTROL.findall(value):
            if ch in "\r\n\t":  # goals may span lines; other text may not
                if one_line:
                    self.fail(column, f"{label} must be on a single line, without tabs.")
                    return
            else:
                self.fail(
                    column,
                    f"{label} contains an unreadable character (U+{ord(ch):04X}). If the file "
                    'came from Excel on Windows, save it as "CSV UTF-8" and upload it again.',
                )
                return

    def items(self, column: str, label: str, value: str, limit: int) -> tuple[str, ...]:
        items: list[str] = []
        seen: set[str] = set()
        for part in _LIST_SPLIT.split(value):
            item = part.strip()
            if item and item.casefold() not in seen:
                seen.add(item.casefold())
                items.append(item)
        for item in items:
            if len(item) > limit:
                self.fail(
                    column,
                    f"Each entry in {label} must be at most {limit} characters "
                    f"({show(item)} has {len(item)}).",
                )
            else:
                self.characters(column, label, item)
        return tuple(items)


def check_row(
    line: int,
    cells: list[str],
    header: Header,
    delimiter: str,
    first_line_of: dict[str, int],
) -> tuple[RosterRow | None, list[RowError]]:
    check = _RowCheck(line, header.spelled)
    values: dict[str, str] = {}
    width = len(header.columns)
    last_filled = max(i for i, cell in enumerate(cells) if cell.strip()) + 1
    if last_filled > width:
        check.fail(
            None,
            f"This row has {last_filled} values but the header has {width} columns. Wrap any "
            f"value that contains a {DELIMITERS[delimiter]} in double quotes.",
        )
        return None, check.errors  # values are shifted, so per-column checks would mislead
    for index, cell in enumerate(cells[:width]):
        column, value = header.columns[index], cell.strip()
        if column is not None:
            values[column] = value
        elif value:
            check.fail(
                None,
                f"This row has a value in column {index + 1}, which has no heading. "
                "Add a heading or remove the value.",
            )

    name = values.get("name", "")
    if not name:
        check.fail("name", "Name is required.")
    else:
        check.text("name", "Name", name, NAME_MAX)

    email = values.get("email", "").lower()
    if not email:
        check.fail("email", "Email is required.")
    elif len(email) > EMAIL_MAX:
        check.fail("email", f"Email must be at most {EMAIL_MAX} characters (found {len(email)}).")
    elif not _plausible_email(email):
        check.fail(
            "email",
            f"Email must be a valid address such as name@hospital.org "
            f"(found {show(values['email'])}).",
        )
    elif email in first_line_of:
        check.fail("email", f"This email already appears on line {first_line_of[email]}.")
    else:
        first_line_of[email] = line

    raw_role = values.get("role", "")
    role = _ROLES.get(re.sub(r"\s+", "", raw_role.lower()))
    if not raw_role:
        check.fail("role", "Role is required: 'mentor' or 'mentee'.")
    elif role is None:
        check.fail("role", f"Role must be 'mentor' or 'mentee' (found {show(raw_role)}).")

    raw_level = values.get("training_level", "")
    level = _TRAINING_LEVELS.get(SEPARATORS.sub("", raw_level.lower()))
    if level is None:
        found = f" (found {show(raw_level)})" if raw_level else ""
        check.fail(
            "training_level",
            f"Training level must be one of {', '.join(TRAINING_LEVELS)}{found}.",
        )

    specialty = check.text("specialty", "Specialty", values.get("specialty", ""), SPECIALTY_MAX)
    pronouns = check.text("pronouns", "Pronouns", values.get("pronouns", ""), PRONOUNS_MAX)
    interests = check.items("interests", "interests", values.get("interests", ""), INTEREST_MAX)
    if len(interests) > INTERESTS_MAX_COUNT:
        check.fail(
            "interests",
            f"List at most {INTERESTS_MAX_COUNT} interests (found {len(interests)}).",
        )
    goals = check.text("goals", "Goals", values.get("goals", ""), GOALS_MAX, one_line=False)
    languages = check.items("languages", "languages", values.get("languages", ""), LANGUAGE_MAX)

    raw_mode = values.get("meeting_mode", "")
    mode = _MEETING_MODES.get(SEPARATORS.sub("", raw_mode.lower()))
    if mode is None:
        check.fail(
            "meeting_mode",
            f"Meeting mode must be 'in person', 'virtual' or 'either' (found {show(raw_mode)}).",
        )

    capacity = _check_capacity(check, role, values.get("capacity", ""), header)
    conflicts = _check_conflicts(check, email, values.get("conflicts", ""))

    if check.errors:
        return None, check.errors
    assert role is not None and level is not None and mode is not None
    row = RosterRow(
        line=line,
        name=name,
        email=email,
        role=role,
        training_level=level,
        specialty=specialty,
        pronouns=pronouns,
        interests=interests,
        goals=goals,
        languages=languages,
        meeting_mode=mode,
        capacity=capacity,
        conflicts=conflicts,
        email_as_written=values["email"],
    )
    return row, []


def _check_capacity(check: _RowCheck, role: str | None, raw: str, header: Header) -> int | None:
    if role == "mentee":
        if raw:
            check.fail(
                "capacity",
                f"Only mentors have a capacity; leave it empty for mentees (found {show(raw)}).",
            )
        return None
    if not raw:
        if role == "mentor":
            missing = "" if "capacity" in header.spelled else " Add a 'capacity' column."
            check.fail(
                "capacity",
                f"Capacity is required for mentors: a whole number from {CAPACITY_MIN} to "
                f"{CAPACITY_MAX}.{missing}",
            )
        return None
    match = _WHOLE_NUMBER.fullmatch(raw)
    number = int(match.group(1)) if match else None
    if number is None or not CAPACITY_MIN <= number <= CAPACITY_MAX:
        check.fail(
            "capacity",
            f"Capacity must be a whole number from {CAPACITY_MIN} to {CAPACITY_MAX} "
            f"(found {show(raw)}).",
        )
        return None
    return number


def _check_conflicts(check: _RowCheck, own_email: str, raw: str) -> tuple[tuple[str, str], ...]:
    """`kind:email` entries separated by semicolons, e.g. `supervisor:a@x.org;other:b@x.org`."""
    found: dict[str, str] = {}
    kinds = "supervisor, assessor, line manager or other"
    for part in _LIST_SPLIT.split(raw):
        entry = part.strip()
        if not entry:
            continue
        raw_kind, colon, raw_email = entry.partition(":")
        if not colon:
            check.fail(
                "conflicts",
                f"Write each conflict as kind:email, e.g. supervisor:{show(entry)[1:-1]} "
                f"(found {show(entry)}); the kind is {kinds}.",
            )
            continue
        kind = _CONFLICT_KINDS.get(SEPARATORS.sub("", raw_kind.lower()))
        email = raw_email.strip().lower()
        if kind is None:
            check.fail(
                "conflicts",
                f"A conflict's kind must be {kinds} (found {show(raw_kind.strip())}).",
            )
        elif not _plausible_email(email) or len(email) > EMAIL_MAX:
            check.fail(
                "conflicts",
                f"A conflict must name the other person's email (found {show(raw_email)}).",
            )
        elif email == own_email:
            check.fail("conflicts", "A conflict is with someone else, not the person on this row.")
        elif email in found and found[email] != kind:
            check.fail(
                "conflicts",
                f"{show(email)} is listed twice with different kinds; keep one.",
            )
        else:
            found[email] = kind
    if len(found) > CONFLICTS_MAX_COUNT:
        check.fail(
            "conflicts", f"List at most {CONFLICTS_MAX_COUNT} conflicts (found {len(found)})."
        )
    return tuple((kind, email) for email, kind in found.items())


def _plausible_email(email: str) -> bool:
    local, at, domain = email.partition("@")
    return (
        bool(local and at)
        and "@" not in domain
        and "." in domain
        and not domain.startswith(".")
        and not domain.endswith(".")
        and ".." not in domain
        and not _SPACE_OR_CONTROL.search(email)
    )


def show(value: str, limit: int = 40) -> str:
    """A cell value quoted for a message: one line, and cut short when long."""
    flat = " ".join(value.split())
    return f"'{flat[:limit]}...'" if len(flat) > limit else f"'{flat}'"
