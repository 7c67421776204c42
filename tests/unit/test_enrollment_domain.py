import pytest

from services.enrollment.domain import Enrollment, Institution, Person, Program
from services.eventkit import DomainError


def _program(institution="inst-a", cross=False) -> Program:
    program = Program("prog-1")
    program.create(institution, "Peer mentoring", "resident_peer_mentoring", "Be kind")
    program.open_cycle("cycle-1", "2026-27", cross)
    return program


def _person(institution="inst-a") -> Person:
    person = Person("p-1")
    person.register(institution, "Ana Silva", "Ana@Example.org", "PGY1", "Surgery")
    return person


def test_institution_needs_a_real_time_zone():
    with pytest.raises(DomainError) as info:
        Institution("i").add("Northfield", "nuh", "Mars/Olympus")
    assert info.value.field == "time_zone"


def test_institution_code_is_upper_cased():
    institution = Institution("i")
    institution.add("Northfield", "nuh", "America/Chicago")
    assert institution.pending[0].payload["short_code"] == "NUH"


def test_email_is_normalised():
    assert _person().pending[0].payload["email"] == "ana@example.org"


def test_unknown_training_level_is_refused():
    with pytest.raises(DomainError) as info:
        Person("p").register("inst-a", "X", "x@example.org", "PGY9", "")
    assert info.value.field == "training_level"


@pytest.mark.parametrize("capacity", [None, 0, -1])
def test_mentor_capacity_must_be_at_least_one(capacity):
    with pytest.raises(DomainError) as info:
        Enrollment("e").enroll(_program(), "cycle-1", _person(), "mentor", [], capacity)
    assert info.value.field == "capacity"


def test_mentee_enrolls_with_clean_interests():
    enrollment = Enrollment("e")
    enrollment.enroll(
        _program(), "cycle-1", _person(), "mentee", [" trauma", "trauma", "research", ""], None
    )
    assert enrollment.pending[0].payload["interests"] == ["research", "trauma"]


def test_unknown_cycle_is_refused():
    with pytest.raises(DomainError) as info:
        Enrollment("e").enroll(_program(), "cycle-x", _person(), "mentee", [], None)
    assert info.value.field == "cycle_id"


def test_other_institution_needs_a_cross_institution_cycle():
    with pytest.raises(DomainError):
        Enrollment("e").enroll(_program(), "cycle-1", _person("inst-b"), "mentee", [], None)
    enrollment = Enrollment("e")
    enrollment.enroll(_program(cross=True), "cycle-1", _person("inst-b"), "mentee", [], None)
    assert enrollment.pending


def test_cycle_names_are_unique_in_a_program():
    program = _program()
    with pytest.raises(DomainError):
        program.open_cycle("cycle-2", "2026-27", False)
