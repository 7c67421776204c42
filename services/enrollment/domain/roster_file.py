"""Roster CSV uploads: the bytes a coordinator uploads become validated rows or a full error list.

Pure: no Flask, no SQLAlchemy, no I/O beyond the bytes given. The whole file is checked before
anything is written so the coordinator sees every problem at once; the caller (app.roster_import)
applies `rows` only when `ok` (atomically, idempotent by email). The columns and the checks of
each row are in `roster_rows`.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .roster_rows import (
    COLUMNS,
    DELIMITERS,
    HEADER_ALIASES,
    REQUIRED_COLUMNS,
    SEPARATORS,
    Header,
    RosterRow,
    RowError,
    check_row,
)

MAX_ROSTER_BYTES = 10 * 1024 * 1024

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

_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    header: Header | None = None
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
        row, row_errors = check_row(line, cells, header, delimiter, first_line_of)
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
    counts = dict.fromkeys(DELIMITERS, 0)
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


def _header_key(label: str) -> str:
    return SEPARATORS.sub("_", label.strip().lower()).strip("_")


def _read_header(cells: list[str], line: int) -> Header:
    header = Header(line, [], {})
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
