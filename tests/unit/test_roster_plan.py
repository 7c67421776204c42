"""The roster plan: what a re-import would change, person by person, decided without I/O."""

from services.enrollment.domain.roster_plan import Known, KnownEnrollment, plan
from services.enrollment.domain.roster_rows import RosterRow

HERE, ELSEWHERE = "inst-1", "inst-2"


def _row(line: int, name: str, email: str, level: str = "PGY1") -> RosterRow:
    return RosterRow(line, name, email.lower(), "mentee", level, email_as_written=email)


def _known(pid: str, email: str, name: str, level: str = "PGY1", inst: str = HERE) -> Known:
    fields = {"name": name, "training_level": level, "specialty": "", "pronouns": ""}
    return Known(pid, inst, email, fields)


PROFILE = {"interests": [], "goals": "", "languages": [], "meeting_mode": "either",
           "capacity": None}  # fmt: skip


def test_each_row_is_new_changed_unchanged_or_left_out():
    people = {
        "ana@x.org": _known("p-ana", "ana@x.org", "Ana Silva"),
        "bo@x.org": _known("p-bo", "bo@x.org", "Bo Chen"),
        "cy@x.org": _known("p-cy", "cy@x.org", "Cy Okafor"),
        "di@x.org": _known("p-di", "di@x.org", "Di Else", inst=ELSEWHERE),
    }
    enrolled = {
        ("p-ana", "mentee"): KnownEnrollment("e-ana", True, PROFILE),
        ("p-bo", "mentee"): KnownEnrollment("e-bo", True, PROFILE),
    }
    rows = (
        _row(2, "Ana Sousa", "Ana@X.org"),
        _row(3, "Bo Chen", "bo@x.org"),
        _row(4, "Cy Okafor", "cy@x.org", "PGY2"),
        _row(5, "Di Else", "di@x.org"),
        _row(6, "Ed New", "ed@x.org"),
    )
    result = plan("f" * 64, rows, people, enrolled, HERE, cross_institution=False)
    ana, bo, cy, di, ed = result.rows
    assert (ana.status, ana.case_only_match, ana.person_id) == ("updated", True, "p-ana")
    assert [(c.field, c.old, c.new) for c in ana.changes] == [("name", "Ana Silva", "Ana Sousa")]
    assert (bo.status, bo.changes, bo.case_only_match) == ("unchanged", (), False)
    assert (cy.status, cy.enrolls) == ("updated", True)  # new to the cycle and a new level
    assert [(c.field, c.old, c.new) for c in cy.changes] == [("training_level", "PGY1", "PGY2")]
    assert (di.status, di.person_id, di.directory_email) == ("other_institution", None, "")
    assert (ed.status, ed.enrolls) == ("new", True)
    assert result.counts() == {
        "rows": 5, "people_registered": 1, "enrolled": 2, "updated": 2, "unchanged": 1,
        "other_institution": 1, "case_only_matches": 1,
    }  # fmt: skip


def test_the_fingerprint_changes_with_the_directory_and_not_otherwise():
    rows = (_row(2, "Ana Silva", "ana@x.org"),)
    people = {"ana@x.org": _known("p-ana", "ana@x.org", "Ana Silva")}
    first = plan("f" * 64, rows, people, {}, HERE, False)
    assert first.fingerprint == plan("f" * 64, rows, people, {}, HERE, False).fingerprint
    renamed = {"ana@x.org": _known("p-ana", "ana@x.org", "Ana S.")}
    assert first.fingerprint != plan("f" * 64, rows, renamed, {}, HERE, False).fingerprint
    assert first.fingerprint != plan("e" * 64, rows, people, {}, HERE, False).fingerprint


def test_a_withdrawn_enrollment_is_enrolled_again():
    rows = (_row(2, "Ana Silva", "ana@x.org"),)
    people = {"ana@x.org": _known("p-ana", "ana@x.org", "Ana Silva")}
    enrolled = {("p-ana", "mentee"): KnownEnrollment("e-ana", False, PROFILE)}
    (ana,) = plan("f" * 64, rows, people, enrolled, HERE, False).rows
    assert (ana.status, ana.reenrolls, ana.enrolls) == ("updated", True, False)
