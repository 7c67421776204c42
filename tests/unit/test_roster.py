import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.enrollment.domain.roster_file import (
    MAX_ROSTER_BYTES,
    ParsedRoster,
    RosterRefused,
    parse_roster,
)
from services.enrollment.domain.roster_rows import COLUMNS, RosterRow, RowError
from services.eventkit.contracts.enrollment import MEETING_MODES
from services.eventkit.contracts.vocabulary import TRAINING_LEVELS

HEADER = "name,email,role,training_level,specialty,capacity"


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return ("\r\n".join([header, *lines]) + "\r\n").encode("utf-8")


def _parse(*lines: str, header: str = HEADER) -> ParsedRoster:
    return parse_roster(_csv(*lines, header=header))


def _errors(result: ParsedRoster) -> list[tuple[int, str | None]]:
    return [(e.line, e.column) for e in result.errors]


def _only_error(*lines: str, header: str = HEADER) -> RowError:
    result = _parse(*lines, header=header)
    assert not result.ok
    assert len(result.errors) == 1, result.errors
    return result.errors[0]


# --- good files ----------------------------------------------------------------------------


def test_a_good_utf8_file_gives_normalised_rows():
    data = (
        "Name,Email,Role,Training Level,Specialty,Pronouns,Interests,Goals,Languages,"
        "Meeting Mode,Capacity\n"
        "Ana Lúcia Silva, Ana@Example.ORG ,Mentor,pgy3,Surgery,she/her,"
        "research; wellbeing ;;Research|teaching,Publish one paper,English;Portuguese,"
        "In-person,3\n"
        "Bo Chen,bo@example.org,mentee,Research resident,,they/them,,,,virtual,\n"
    ).encode()
    result = parse_roster(data)
    assert result.ok
    assert result.encoding == "utf-8"
    assert result.rows == (
        RosterRow(
            line=2,
            name="Ana Lúcia Silva",
            email="ana@example.org",
            role="mentor",
            training_level="PGY3",
            specialty="Surgery",
            pronouns="she/her",
            interests=("research", "wellbeing", "teaching"),
            goals="Publish one paper",
            languages=("English", "Portuguese"),
            meeting_mode="in_person",
            capacity=3,
        ),
        RosterRow(
            line=3,
            name="Bo Chen",
            email="bo@example.org",
            role="mentee",
            training_level="research_resident",
            pronouns="they/them",
            meeting_mode="virtual",
        ),
    )


def test_optional_columns_may_be_left_out():
    result = parse_roster(b"name,email,role,training_level\nAna,ana@x.org,mentee,MS1\n")
    assert result.ok
    assert result.rows == (
        RosterRow(line=2, name="Ana", email="ana@x.org", role="mentee", training_level="MS1"),
    )


def test_utf8_with_bom_is_read_and_reported():
    data = b"\xef\xbb\xbf" + _csv("Zoë Ålund,zoe@x.org,mentee,MS2,,")
    result = parse_roster(data)
    assert result.ok
    assert result.encoding == "utf-8-sig"
    assert result.rows[0].name == "Zoë Ålund"


def test_latin1_excel_export_is_read_with_accents():
    data = "name,email,role,training_level\r\nJosé Müller,jose@x.org,mentee,PGY1\r\n".encode(
        "latin-1"
    )
    result = parse_roster(data)
    assert result.ok
    assert result.encoding == "cp1252"  # Windows-1252 agrees with Latin-1 on letters
    assert result.rows[0].name == "José Müller"


def test_windows_1252_export_keeps_curly_apostrophes():
    data = "name,email,role,training_level\r\nAoife O\u2019Brien,ao@x.org,mentee,PGY1\r\n".encode(
        "cp1252"
    )
    result = parse_roster(data)
    assert result.ok and result.encoding == "cp1252"
    assert result.rows[0].name == "Aoife O\u2019Brien"


def test_bytes_outside_windows_1252_fall_back_to_latin1_and_are_flagged():
    # 0x81 is undefined in Windows-1252; in Latin-1 it is a control character, never stored.
    data = b"name,email,role,training_level\r\nAoife O\x81Brien,ao@x.org,mentee,PGY1\r\n"
    result = parse_roster(data)
    assert result.encoding == "latin-1"
    assert _errors(result) == [(2, "name")]
    assert "U+0081" in result.errors[0].message
    assert "CSV UTF-8" in result.errors[0].message


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_any_line_ending_works(newline):
    text = newline.join([HEADER, "Ana,ana@x.org,mentee,MS1,,", "Bo,bo@x.org,mentor,fellow,,2", ""])
    result = parse_roster(text.encode())
    assert result.ok
    assert [(r.line, r.email) for r in result.rows] == [(2, "ana@x.org"), (3, "bo@x.org")]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_delimiters_are_detected(delimiter):
    header = delimiter.join(["Name", "Email", "Role", "Training level", "Interests", "Capacity"])
    # Commas are ordinary characters when the separator is something else.
    row = delimiter.join(["Müller, Jana", "jana@x.de", "mentor", "PGY2", "a, b|c", "4"])
    result = parse_roster(f"{header}\n{row}\n".encode())
    assert result.ok, result.errors
    assert result.rows[0].name == "Müller, Jana"
    assert result.rows[0].interests == ("a, b", "c")
    assert result.rows[0].capacity == 4


def test_quoted_commas_and_newlines_keep_line_numbers_right():
    data = _csv(
        '"Silva, Ana",ana@x.org,mentee,MS1,"Meet monthly,\nread more\nand publish"',
        "Bo,bo@x.org,mentee,MS2,",
        "Cy,not-an-email,mentee,MS3,",
        header="name,email,role,training_level,goals",
    )
    result = parse_roster(data)
    assert [r.line for r in result.rows] == [2, 5]
    assert result.rows[0].name == "Silva, Ana"
    assert result.rows[0].goals == "Meet monthly,\nread more\nand publish"
    assert _errors(result) == [(6, "email")]


def test_goals_may_span_lines_and_quoted_quotes_survive():
    header = "name,email,role,training_level,goals"
    result = _parse('"Ana ""Nan"" Silva",ana@x.org,mentee,MS1,"Line one\nLine two"', header=header)
    assert result.ok
    assert result.rows[0].name == 'Ana "Nan" Silva'
    assert result.rows[0].goals == "Line one\nLine two"


def test_a_space_before_an_opening_quote_is_allowed():
    result = _parse('Ana, "ana@x.org", mentee, "MS1", "Surgery, general",')
    assert result.ok
    assert result.rows[0].specialty == "Surgery, general"


def test_blank_lines_and_empty_separator_rows_are_skipped():
    data = _csv("", "Ana,ana@x.org,mentee,MS1,,", ",,,,,", "   ", "Bo,bad,mentee,MS1,,", "")
    result = parse_roster(data)
    assert [r.line for r in result.rows] == [3]
    assert _errors(result) == [(6, "email")]


def test_fewer_cells_than_the_header_are_treated_as_empty():
    result = _parse("Ana,ana@x.org,mentee,MS1")
    assert result.ok
    assert result.rows[0].specialty == ""


def test_trailing_empty_cells_and_unheaded_empty_columns_are_ignored():
    result = _parse("Ana,ana@x.org,mentee,MS1,,,,", header=HEADER + ",,")
    assert result.ok


def test_parsing_is_deterministic():
    data = _csv("Ana,ana@x.org,mentee,MS1,,", "Bo,bad,mentor,XX,,0")
    assert parse_roster(data) == parse_roster(data)


# --- refused files -------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n  \r\n", b",,,\r\n,,,\r\n"])
def test_an_empty_file_is_refused(data):
    with pytest.raises(RosterRefused, match=r"^The file is empty\.$"):
        parse_roster(data)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-be"])
def test_utf16_and_utf32_files_are_refused_with_the_fix(codec):
    text = HEADER + "\nAna,ana@x.org,mentee,MS1,,\n"
    data = text.encode(codec)
    if not codec.endswith("-be"):
        assert data[:2] == b"\xff\xfe"  # the codec wrote its own BOM
    else:
        data = ("\ufeff" + text).encode(codec)
    with pytest.raises(RosterRefused, match="CSV UTF-8"):
        parse_roster(data)


def test_utf16_without_a_bom_is_refused():
    with pytest.raises(RosterRefused, match="CSV UTF-8"):
        parse_roster((HEADER + "\n").encode("utf-16-le"))


@pytest.mark.parametrize(
    "data",
    [
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml",  # xlsx
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32,  # legacy xls
    ],
)
def test_spreadsheet_workbooks_are_refused(data):
    with pytest.raises(RosterRefused, match="spreadsheet") as info:
        parse_roster(data)
    assert "CSV" in str(info.value)


@pytest.mark.parametrize(
    "data",
    [
        b"name,email\x00,role\n",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        bytes(range(1, 9)) * 50,  # control bytes but no NUL
    ],
)
def test_binary_data_is_refused(data):
    with pytest.raises(RosterRefused, match="binary data") as info:
        parse_roster(data)
    assert "CSV" in str(info.value)


def test_size_limit_is_enforced_and_named():
    data = _csv(*[f"P{i},p{i}@x.org,mentee,MS1,," for i in range(100)])
    assert len(data) > 2048
    with pytest.raises(RosterRefused, match=r"2 KB limit"):
        parse_roster(data, max_bytes=2048)
    assert parse_roster(data, max_bytes=len(data)).ok  # the limit itself is allowed


def test_default_size_limit_is_ten_megabytes():
    assert MAX_ROSTER_BYTES == 10 * 1024 * 1024
    with pytest.raises(RosterRefused, match=r"10 MB limit"):
        parse_roster(b"a" * (MAX_ROSTER_BYTES + 1))


def test_refusal_is_a_value_error():
    assert issubclass(RosterRefused, ValueError)


# --- header problems -----------------------------------------------------------------------


def test_header_matching_ignores_case_spacing_and_hyphens_and_knows_aliases():
    header = " NAME ,E-mail address,Role, Training-Level ,MEETING mode,Language"
    result = _parse("Ana,ana@x.org,mentee,ms 1,In person,Welsh", header=header)
    assert result.ok, result.errors
    assert result.rows[0].meeting_mode == "in_person"
    assert result.rows[0].languages == ("Welsh",)


def test_errors_name_the_column_as_the_file_spells_it():
    error = _only_error("Ana,nope,mentee,MS1", header="Name,E-mail,Role,Training level")
    assert (error.line, error.column) == (2, "E-mail")


def test_each_missing_required_column_is_one_error_and_rows_are_not_read():
    result = _parse("Ana,mentee", header="name,role")
    assert result.rows == ()
    assert _errors(result) == [(1, "email"), (1, "training_level")]
    assert "required column 'email' is missing" in result.errors[0].message


def test_an_unknown_column_is_named_with_the_accepted_columns():
    result = _parse("Ana,ana@x.org,mentee,MS1,x", header="name,email,role,training_level,Hobby")
    assert result.rows == ()
    assert _errors(result) == [(1, "Hobby")]
    message = result.errors[0].message
    assert "Unknown column 'Hobby'" in message
    assert all(column in message for column in COLUMNS)


def test_an_unknown_column_close_to_a_known_one_gets_a_suggestion():
    result = _parse("Ana,ana@x.org,mentee,MS1", header="name,emial,role,training_level")
    assert _errors(result) == [(1, "emial"), (1, "email")]
    assert "Did you mean 'email'?" in result.errors[0].message


@pytest.mark.parametrize(
    "header, duplicate",
    [
        ("name,email,role,training_level,email", "email"),
        ("name,Email,role,training_level,E-mail", "E-mail"),
        ("name,email,role,training_level,Training Level", "Training Level"),
    ],
)
def test_a_duplicated_column_is_a_header_error(header, duplicate):
    result = _parse("Ana,ana@x.org,mentee,MS1,x", header=header)
    assert result.rows == ()
    assert _errors(result) == [(1, duplicate)]
    assert "more than once" in result.errors[0].message


def test_header_only_file_says_there_are_no_people():
    result = parse_roster((HEADER + "\r\n\r\n,,,,,\r\n").encode())
    assert result.rows == ()
    assert result.errors == (RowError(1, None, "The file has a header but no people."),)
    assert not result.ok


# --- row problems --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "row, column, fragment",
    [
        (",ana@x.org,mentee,MS1,,", "name", "Name is required."),
        ("A" * 201 + ",ana@x.org,mentee,MS1,,", "name", "at most 200 characters (found 201)"),
        ('"Ana\nSilva",ana@x.org,mentee,MS1,,', "name", "single line"),
        ("Ana,,mentee,MS1,,", "email", "Email is required."),
        ("Ana,ana.x.org,mentee,MS1,,", "email", "valid address"),
        ("Ana,ana@@x.org,mentee,MS1,,", "email", "valid address"),
        ("Ana,ana@x@y.org,mentee,MS1,,", "email", "valid address"),
        ("Ana,ana@localhost,mentee,MS1,,", "email", "valid address"),
        ("Ana,ana@.x.org,mentee,MS1,,", "email", "valid address"),
        ("Ana,ana@x..org,mentee,MS1,,", "email", "valid address"),
        ("Ana,ana@x.org.,mentee,MS1,,", "email", "valid address"),
        ("Ana,@x.org,mentee,MS1,,", "email", "valid address"),
        ("Ana,ana silva@x.org,mentee,MS1,,", "email", "valid address"),
        ("Ana," + "a" * 250 + "@x.org,mentee,MS1,,", "email", "at most 254 characters"),
        ("Ana,ana@x.org,,MS1,,", "role", "Role is required"),
        ("Ana,ana@x.org,boss,MS1,,", "role", "found 'boss'"),
        ("Ana,ana@x.org,mentee,,,", "training_level", "Training level must be one of"),
        ("Ana,ana@x.org,mentee,intern,,", "training_level", "found 'intern'"),
        ("Ana,ana@x.org,mentee,PGY8,,", "training_level", "found 'PGY8'"),
        ("Ana,ana@x.org,mentee,MS1," + "s" * 201 + ",", "specialty", "at most 200"),
        ("Ana,ana@x.org,mentor,MS1,,", "capacity", "required for mentors"),
        ("Ana,ana@x.org,mentor,MS1,,two", "capacity", "whole number from 1 to 20 (found 'two')"),
        ("Ana,ana@x.org,mentor,MS1,,0", "capacity", "found '0'"),
        ("Ana,ana@x.org,mentor,MS1,,21", "capacity", "found '21'"),
        ("Ana,ana@x.org,mentor,MS1,,-1", "capacity", "found '-1'"),
        ("Ana,ana@x.org,mentor,MS1,,2.5", "capacity", "found '2.5'"),
        ("Ana,ana@x.org,mentee,MS1,,2", "capacity", "Only mentors have a capacity"),
    ],
)
def test_each_row_error_names_its_line_and_column(row, column, fragment):
    error = _only_error(row)
    assert (error.line, error.column) == (2, column)
    assert fragment in error.message


def test_the_capacity_message_matches_the_coordinator_wording():
    error = _only_error("Ana,ana@x.org,mentor,MS1,,two")
    assert error.message == "Capacity must be a whole number from 1 to 20 (found 'two')."


def test_a_mentor_without_a_capacity_column_is_told_to_add_one():
    error = _only_error("Ana,ana@x.org,mentor,MS1", header="name,email,role,training_level")
    assert (error.line, error.column) == (2, "capacity")
    assert "Add a 'capacity' column" in error.message


@pytest.mark.parametrize(
    "column, value, fragment",
    [
        ("pronouns", "p" * 51, "at most 50"),
        ("goals", "g" * 2001, "at most 2,000 characters (found 2,001)"),
        ("interests", "ok;" + "i" * 101, "at most 100 characters"),
        ("interests", ";".join(f"topic {i}" for i in range(21)), "at most 20 interests (found 21)"),
        ("languages", "English|" + "l" * 51, "at most 50 characters"),
        ("meeting_mode", "by carrier pigeon", "Meeting mode must be"),
    ],
)
def test_optional_field_errors(column, value, fragment):
    header = f"name,email,role,training_level,{column}"
    error = _only_error(f'Ana,ana@x.org,mentee,MS1,"{value}"', header=header)
    assert (error.line, error.column) == (2, column)
    assert fragment in error.message


def test_every_overlong_interest_is_reported():
    header = "name,email,role,training_level,interests"
    result = _parse(f"Ana,ana@x.org,mentee,MS1,{'a' * 101};ok;{'b' * 101}", header=header)
    assert _errors(result) == [(2, "interests"), (2, "interests")]


def test_twenty_interests_after_removing_duplicates_are_fine():
    header = "name,email,role,training_level,interests"
    cell = ";".join(f"topic {i}" for i in range(20)) + ";TOPIC 0;;"
    result = _parse(f"Ana,ana@x.org,mentee,MS1,{cell}", header=header)
    assert result.ok
    assert len(result.rows[0].interests) == 20


def test_too_many_cells_is_a_whole_row_error():
    error = _only_error(
        "Silva, Ana,ana@x.org,mentee,MS1,,", header="name,email,role,training_level"
    )
    assert (error.line, error.column) == (2, None)
    assert "5 values but the header has 4 columns" in error.message
    assert "double quotes" in error.message


def test_a_value_under_a_blank_heading_is_an_error():
    error = _only_error(
        "Ana,ana@x.org,mentee,MS1,surprise", header="name,email,role,training_level,"
    )
    assert (error.line, error.column) == (2, None)
    assert "column 5, which has no heading" in error.message


def test_all_errors_of_one_row_are_reported():
    header = "name,email,role,training_level,meeting_mode,capacity,goals"
    result = _parse(f",not an email,boss,year 9,sometimes,lots,{'g' * 2001}", header=header)
    assert result.rows == ()
    assert _errors(result) == [
        (2, "name"),
        (2, "email"),
        (2, "role"),
        (2, "training_level"),
        (2, "goals"),
        (2, "meeting_mode"),
        (2, "capacity"),
    ]


def test_duplicate_emails_are_reported_on_the_later_rows():
    result = _parse(
        "Ana,ana@x.org,mentee,MS1,,",
        "Bo,bo@x.org,mentee,MS1,,",
        "Ana again, ANA@X.ORG ,mentee,MS2,,",
        "Ana thrice,Ana@x.org,mentee,MS3,,",
    )
    assert [r.line for r in result.rows] == [2, 3]
    assert result.errors == (
        RowError(4, "email", "This email already appears on line 2."),
        RowError(5, "email", "This email already appears on line 2."),
    )


def test_valid_rows_are_kept_alongside_errors_but_not_ok():
    result = _parse("Ana,ana@x.org,mentee,MS1,,", "Bo,bo@x.org,mentee,MS9,,")
    assert not result.ok
    assert [r.email for r in result.rows] == ["ana@x.org"]
    assert _errors(result) == [(3, "training_level")]


def test_an_unclosed_quote_is_reported_where_it_opens():
    result = _parse(
        "Ana,ana@x.org,mentee,MS1,,", 'Bo,bo@x.org,mentee,MS1,"Surgery,', "Cy,c@x.org,,"
    )
    assert [r.line for r in result.rows] == [2]
    assert _errors(result) == [(3, None)]
    assert "never closed" in result.errors[0].message
    assert "lines 3-4" in result.errors[0].message


def test_a_stray_character_after_a_closing_quote_is_reported_and_reading_goes_on():
    result = _parse('"Ana" Silva,ana@x.org,mentee,MS1,,', "Bo,bo@x.org,mentee,MS1,,")
    assert [r.line for r in result.rows] == [3]
    assert _errors(result) == [(2, None)]
    assert "quotes" in result.errors[0].message


# --- value normalisation -------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, level",
    [
        ("pgy1", "PGY1"),
        ("PGY-1", "PGY1"),
        ("ms4", "MS4"),
        ("Research resident", "research_resident"),
        ("research_resident", "research_resident"),
        ("RESEARCH-RESIDENT", "research_resident"),
        ("Fellow", "fellow"),
        ("faculty", "faculty"),
    ],
)
def test_training_levels_are_accepted_in_any_case(raw, level):
    assert _parse(f"Ana,ana@x.org,mentee,{raw},,").rows[0].training_level == level


def test_every_training_level_is_accepted():
    rows = [f"P{i},p{i}@x.org,mentee,{level},," for i, level in enumerate(TRAINING_LEVELS)]
    assert [r.training_level for r in _parse(*rows).rows] == list(TRAINING_LEVELS)


@pytest.mark.parametrize(
    "raw, role",
    [
        ("Mentor", "mentor"),
        ("MENTEE", "mentee"),
        ("coach", "mentor"),
        ("Coach", "mentor"),
        ("mentor/coach", "mentor"),
        ("Mentor / Coach", "mentor"),
    ],
)
def test_roles_and_their_aliases(raw, role):
    capacity = "2" if role == "mentor" else ""
    assert _parse(f"Ana,ana@x.org,{raw},MS1,,{capacity}").rows[0].role == role


@pytest.mark.parametrize(
    "raw, mode",
    [
        ("", "either"),
        ("either", "either"),
        ("Any", "either"),
        ("in person", "in_person"),
        ("In-person", "in_person"),
        ("in_person", "in_person"),
        ("Virtual", "virtual"),
    ],
)
def test_meeting_modes(raw, mode):
    assert mode in MEETING_MODES
    header = "name,email,role,training_level,meeting_mode"
    assert _parse(f"Ana,ana@x.org,mentee,MS1,{raw}", header=header).rows[0].meeting_mode == mode


@pytest.mark.parametrize("raw, capacity", [("1", 1), (" 20 ", 20), ("3.0", 3), ("07", 7)])
def test_mentor_capacity_values(raw, capacity):
    assert _parse(f"Ana,ana@x.org,mentor,MS1,,{raw}").rows[0].capacity == capacity


# --- scale ---------------------------------------------------------------------------------


def test_five_thousand_rows_parse_correctly():
    lines = [
        f"Person {i},person{i}@example.org,{'mentor' if i % 5 == 0 else 'mentee'},"
        f"{TRAINING_LEVELS[i % len(TRAINING_LEVELS)]},Surgery,{(i % 20) + 1 if i % 5 == 0 else ''}"
        for i in range(5000)
    ]
    lines[4321] = "Broken,person1@example.org,mentee,MS1,,"
    result = _parse(*lines)
    assert len(result.rows) == 4999
    assert result.errors == (RowError(4323, "email", "This email already appears on line 3."),)
    assert result.rows[-1].line == 5001
    assert result.rows[-1].email == "person4999@example.org"
    assert sum(r.role == "mentor" for r in result.rows) == 1000


# --- round trip ----------------------------------------------------------------------------

_text_chars = st.characters(blacklist_categories=("Cc", "Cs"))
_item_chars = st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters=";|")


def _line_text(max_size: int, min_size: int = 0) -> st.SearchStrategy[str]:
    return (
        st.text(_text_chars, max_size=max_size)
        .map(str.strip)
        .filter(lambda s: min_size <= len(s) <= max_size)
    )


def _items(max_len: int, max_count: int) -> st.SearchStrategy[tuple[str, ...]]:
    item = st.text(_item_chars, min_size=1, max_size=max_len).map(str.strip).filter(bool)
    return st.lists(item, max_size=max_count, unique_by=str.casefold).map(tuple)


_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=10)
_emails = st.builds(
    lambda local, labels: f"{local}@{'.'.join(labels)}",
    st.text("abcdefghijklmnopqrstuvwxyz0123456789._+-'", min_size=1, max_size=20),
    st.lists(_label, min_size=2, max_size=3),
)
_goals = (
    st.text(st.characters(blacklist_categories=("Cc", "Cs"), whitelist_characters="\n\t"))
    .map(str.strip)
    .filter(lambda s: len(s) <= 2000)
)


@st.composite
def _rows(draw: st.DrawFn) -> RosterRow:
    role = draw(st.sampled_from(["mentor", "mentee"]))
    return RosterRow(
        line=0,
        name=draw(_line_text(200, min_size=1)),
        email=draw(_emails),
        role=role,
        training_level=draw(st.sampled_from(TRAINING_LEVELS)),
        specialty=draw(_line_text(200)),
        pronouns=draw(_line_text(50)),
        interests=draw(_items(100, 20)),
        goals=draw(_goals),
        languages=draw(_items(50, 5)),
        meeting_mode=draw(st.sampled_from(MEETING_MODES)),
        capacity=draw(st.integers(1, 20)) if role == "mentor" else None,
    )


def _cell(row: RosterRow, column: str) -> str:
    value = getattr(row, column)
    if isinstance(value, tuple):
        return ";".join(value)
    return "" if value is None else str(value)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(_rows(), min_size=1, max_size=8, unique_by=lambda r: r.email),
    columns=st.permutations(COLUMNS),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_valid_rows_written_with_csv_writer_round_trip(rows, columns, delimiter):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(columns)
    expected = []
    line = 2
    for row in rows:
        start = out.tell()
        writer.writerow([_cell(row, column) for column in columns])
        expected.append(RosterRow(**{**row.__dict__, "line": line}))
        line += out.getvalue()[start:].count("\n")  # goals may add physical lines
    result = parse_roster(out.getvalue().encode("utf-8"))
    assert result.errors == ()
    assert result.encoding == "utf-8"
    assert list(result.rows) == expected
