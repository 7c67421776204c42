"""The roster's `conflicts` column: `kind:email` entries separated by semicolons."""

import pytest

from services.enrollment.domain.roster_file import parse_roster

HEADER = "name,email,role,training_level,capacity,Conflicts"


def _parse(cell: str):
    return parse_roster(f'{HEADER}\r\nAna,ana@x.org,mentee,PGY1,,"{cell}"\r\n'.encode())


def test_kinds_and_emails_are_normalised():
    parsed = _parse("Supervisor:Sam@X.org; other:tia@x.org;line manager:lu@x.org;;")
    assert parsed.ok, parsed.errors
    assert parsed.rows[0].conflicts == (
        ("supervisor", "sam@x.org"),
        ("personal", "tia@x.org"),
        ("line_manager", "lu@x.org"),
    )


def test_an_empty_cell_means_no_conflicts():
    assert _parse("").rows[0].conflicts == ()


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("sam@x.org", "kind:email"),
        ("boss:sam@x.org", "kind must be supervisor, assessor, line manager or other"),
        ("supervisor:sam", "other person's email"),
        ("supervisor:ana@x.org", "someone else"),
        ("supervisor:sam@x.org;assessor:sam@x.org", "twice with different kinds"),
    ],
)
def test_each_bad_entry_is_an_error_on_the_column_as_spelled(cell, words):
    parsed = _parse(cell)
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "Conflicts")]
    assert words in parsed.errors[0].message


def test_at_most_twenty_conflicts():
    parsed = _parse(";".join(f"other:p{n}@x.org" for n in range(21)))
    assert "at most 20" in parsed.errors[0].message
