"""Roster CSV uploads: the bytes a coordinator uploads become validated rows or a full error list.

Pure: no Flask, no SQLAlchemy, no I/O beyond the bytes given. The whole file is checked before
anything is written so the coordinator sees every problem at once; the caller applies `rows` only
when `ok` (atomically, idempotent by email).
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from services.enrollment.domain import TRAINING_LEVELS
from services.eventkit.contracts.enrollment import MEETING_MODES

__all__ = [
    "COLUMNS",
    "HEADER_ALIASES",
    "MAX_ROSTER_BYTES",
    "MEETING_MODES",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "ParsedRoster",
    "RosterRefused",
    "RosterRow",
    "RowError",
    "parse_roster",
]

MAX_ROSTER_BYTES = 10 * 1024 * 1024

REQUIRED_COLUMNS = ("name", "email", "role", "training_level")
OPTIONAL_COLUMNS = (
    "specialty",
    "pronouns",
    "interests",
    "goals",
    "languages",
    "meeting_mode",
    "capacity",
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

_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab"}
_UNICODE_BOMS = (  # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_WORKBOOK_SIGNATURES = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")  # xlsx/ods zip, old xls
_EXPORT_HINT = (
    'Open it in your spreadsheet program and save it as "CSV UTF-8", then upload that file.'
)

_SEPARATORS = re.compile(r"[\s_-]+")
_LIST_SPLIT = re.compile(r"[;|\r\n]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
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


@dataclass(frozen=True)
class RowError:
    line: int  # 1 (the header line) for file- and header-level problems
    column: str | None  # the heading as the file spells it; None for whole-row or file problems
    message: str


@dataclass(frozen=True)
class ParsedRoster:
    rows: tuple[RosterRow, ...]
    errors: tuple[RowError, ...]
    encoding: str  # "utf-8", "utf-8-sig", "cp1252" or "latin-1"

    @property
    def ok(self) -> bool:
        return not self.errors


class RosterRefused(ValueError):
    """The file cannot be read as a roster at all; the message is shown to the coordinator."""


def parse_roster(data: bytes, max_bytes: int = MAX_ROSTER_BYTES) -> ParsedRoster:
    text, encoding = _decode(data, max_bytes)
    delimiter = _detect_delimiter(text)
    # strict: a broken quote becomes an error on its line instead of silently eating later rows.
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, strict=True, skipinitialspace=True
    )
    header: _Header | None = None
    rows: list[RosterRow] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    people = 0
    for line, cells, problem in _records(reader):
        if header is None and problem is not None:
            return ParsedRoster((), (RowError(line, None, problem),), encoding)
        if cells is not None and not any(cell.strip() for cell in cells):
            continue
        if header is None:
            assert cells is not None
            header = _read_header(cells, line)
            if header.errors:
                return ParsedRoster((), tuple(header.errors), encoding)
            continue
        people += 1
        if problem is not None:
            errors.append(RowError(line, None, problem))
            continue
        assert cells is not None
        row, row_errors = _check_row(line, cells, header, delimiter, first_line_of)
        errors.extend(row_errors)
        if row is not None:
            rows.append(row)
    if header is None:
        raise RosterRefused("The file is empty.")
    if not people:
        errors.append(RowError(header.line, None, "The file has a header but no people."))
    return ParsedRoster(tuple(rows), tuple(errors), encoding)


# --- bytes to text ---------------------------------------------------------------------------


def _decode(data: bytes, max_bytes: int) -> tuple[str, str]:
    if not data:
        raise RosterRefused("The file is empty.")
    if len(data) > max_bytes:
        raise RosterRefused(
            f"The file is larger than the {_size(max_bytes)} limit. "
            "Split the roster into smaller files and upload each one."
        )
    for bom, name in _UNICODE_BOMS:
        if data.startswith(bom):
            raise RosterRefused(
                f"This file is saved as {name} text, which cannot be read. {_EXPORT_HINT}"
            )
    if data.startswith(_WORKBOOK_SIGNATURES):
        raise RosterRefused(f"This is a spreadsheet workbook, not a CSV file. {_EXPORT_HINT}")
    if b"\x00" in data:  # also catches UTF-16 saved without a BOM
        raise RosterRefused(f"This file holds binary data, not CSV text. {_EXPORT_HINT}")
    body, encoding = data, "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        body, encoding = data[len(codecs.BOM_UTF8) :], "utf-8-sig"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Excel on Windows writes its 8-bit code page (Windows-1252, with curly quotes and €);
        # Latin-1, which decodes any byte, is the last resort.
        try:
            text, encoding = body.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            text, encoding = body.decode("latin-1"), "latin-1"
    sample = text[:8192]
    controls = len(_BINARY_CONTROL.findall(sample))
    if controls >= 3 and controls * 50 > len(sample):
        raise RosterRefused(f"This file holds binary data, not CSV text. {_EXPORT_HINT}")
    if not text.strip():
        raise RosterRefused("The file is empty.")
    return text, encoding


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        value, unit = n / (1024 * 1024), "MB"
    elif n >= 1024:
        value, unit = n / 1024, "KB"
    else:
        return f"{n} bytes"
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def _detect_delimiter(text: str) -> str:
    """The separator used most often in the heading line, outside quotes; comma when unsure."""
    header = ""
    for line in io.StringIO(text, newline=""):
        if line.strip(" \t\r\n,;"):
            header = line
            break
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=counts.__getitem__)  # ties go to the comma (first key)
    return best if counts[best] else ","


def _records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str] | None, str | None]]:
    """(start line, cells, problem) per record; line numbers come from the reader's line_num."""
    end = 0
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line_num = reader.line_num  # type: ignore[attr-defined]
            yield start, None, _quote_problem(str(exc), start, line_num)
            if line_num <= end:  # no progress; stop rather than loop
                return
            end = line_num
            continue
        end = reader.line_num  # type: ignore[attr-defined]
        yield start, cells, None


def _quote_problem(detail: str, start: int, end: int) -> str:
    if "unexpected end of data" in detail:
        where = f"lines {start}-{end}" if end > start else f"line {start}"
        return (
            "A double quote that opens a value on this line is never closed, so the rest of "
            f"the file ({where}) could not be read."
        )
    if "field larger than field limit" in detail:
        return (
            f"A value starting on this line is longer than {csv.field_size_limit():,} characters; "
            "check for a double quote that is never closed."
        )
    return (
        "This line's quotes are unbalanced. Wrap a value that contains the separator in double "
        'quotes, with nothing after the closing quote, and write a quote inside it as "".'
    )


# --- header --------------------------------------------------------------------------------


@dataclass
class _Header:
    line: int
    columns: list[str | None]  # canonical column per cell position; None for a blank heading
    spelled: dict[str, str]  # canonical column -> heading as the file spells it
    errors: list[RowError] = field(default_factory=list)


def _header_key(label: str) -> str:
    return _SEPARATORS.sub("_", label.strip().lower()).strip("_")


def _read_header(cells: list[str], line: int) -> _Header:
    header = _Header(line, [], {})
    for cell in cells:
        label = cell.replace("\ufeff", "").strip()
        key = _header_key(label)
        canonical = HEADER_ALIASES.get(key, key)
        if not label:
            header.columns.append(None)  # Excel often exports trailing empty columns
        elif canonical not in COLUMNS:
            header.errors.append(RowError(line, label, _unknown_column(label, key)))
            header.columns.append(None)
        elif canonical in header.spelled:
            first = header.spelled[canonical]
            header.errors.append(
                RowError(
                    line,
                    label,
                    f"The column '{label}' appears more than once (the same as '{first}'); "
                    "keep only one.",
                )
            )
            header.columns.append(None)
        else:
            header.spelled[canonical] = label
            header.columns.append(canonical)
    for name in REQUIRED_COLUMNS:
        if name not in header.spelled:
            header.errors.append(
                RowError(
                    line,
                    name,
                    f"The required column '{name}' is missing. The first line must hold the "
                    f"column headings: {', '.join(COLUMNS)}.",
                )
            )
    return header


def _unknown_column(label: str, key: str) -> str:
    known = COLUMNS + tuple(HEADER_ALIASES)
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.75)
    hint = f" Did you mean '{HEADER_ALIASES.get(close[0], close[0])}'?" if close else ""
    return f"Unknown column '{label}'.{hint} Accepted columns: {', '.join(COLUMNS)}."


# --- rows ----------------------------------------------------------------------------------


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
                    f"({_show(item)} has {len(item)}).",
                )
            else:
                self.characters(column, label, item)
        return tuple(items)


def _check_row(
    line: int,
    cells: list[str],
    header: _Header,
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
            f"value that contains a {_DELIMITERS[delimiter]} in double quotes.",
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
            f"(found {_show(values['email'])}).",
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
        check.fail("role", f"Role must be 'mentor' or 'mentee' (found {_show(raw_role)}).")

    raw_level = values.get("training_level", "")
    level = _TRAINING_LEVELS.get(_SEPARATORS.sub("", raw_level.lower()))
    if level is None:
        found = f" (found {_show(raw_level)})" if raw_level else ""
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
    mode = _MEETING_MODES.get(_SEPARATORS.sub("", raw_mode.lower()))
    if mode is None:
        check.fail(
            "meeting_mode",
            f"Meeting mode must be 'in person', 'virtual' or 'either' (found {_show(raw_mode)}).",
        )

    capacity = _check_capacity(check, role, values.get("capacity", ""), header)

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
    )
    return row, []


def _check_capacity(check: _RowCheck, role: str | None, raw: str, header: _Header) -> int | None:
    if role == "mentee":
        if raw:
            check.fail(
                "capacity",
                f"Only mentors have a capacity; leave it empty for mentees (found {_show(raw)}).",
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
            f"(found {_show(raw)}).",
        )
        return None
    return number


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


def _show(value: str, limit: int = 40) -> str:
    """A cell value quoted for a message: one line, and cut short when long."""
    flat = " ".join(value.split())
    return f"'{flat[:limit]}...'" if len(flat) > limit else f"'{flat}'"
