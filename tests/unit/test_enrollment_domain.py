import pytest

from services.enrollment.domain.directory import Institution, Program
from services.enrollment.domain.enrollment import Enrollment
from services.enrollment.domain.person import Person
from services.eventkit import DomainError


def _program(institution="inst-a", cross=False) -> Program:
    program = Program("prog-1")
    program.create(institution, "Peer mentoring", "resident_peer_mentoring", "Be kind")
    program.open_cycle("cycle-1", "2026-27", cross)
    return _stored(program)


def _person(institution="inst-a") -> Person:
    person = Person("p-1")
    person.register(institution, "Ana Silva", "Ana@Example.org", "PGY1", "Surgery")
    return _stored(person)


def _stored(aggregate):
    """As if saved and loaded again: pending events become history."""
    aggregate.version += len(aggregate.pending)
    aggregate.pending = []
    return aggregate


def test_institution_needs_a_real_time_zone():
    with pytest.raises(DomainError) as info:
        Institution("i").add("Northfield", "nuh", "Mars/Olympus")
    assert info.value.field == "time_zone"


def test_institution_code_is_upper_cased():
    institution = Institution("i")
    institution.add("Northfield", "nuh", "America/Chicago")
    assert institution.pending[0].payload["short_code"] == "NUH"


def test_email_is_normalised():
    person = Person("p")
    person.register("inst-a", "Ana", "Ana@Example.org", "PGY1")
    assert person.pending[0].payload["email"] == "ana@example.org"


def test_unknown_training_level_is_refused():
    with pytest.raises(DomainError) as info:
        Person("p").register("inst-a", "X", "x@example.org", "PGY9", "")
    assert info.value.field == "training_level"


@pytest.mark.parametrize("capacity", [None, 0, -1])
def test_mentor_capacity_must_be_at_least_one(capacity):
    with pytest.raises(DomainError) as info:
        Enrollment("e").enroll(_program(), "cycle-1", _person(), "mentor", {"capacity": capacity})
    assert info.value.field == "capacity"


def test_mentee_enrolls_with_clean_interests():
    enrollment = Enrollment("e")
    enrollment.enroll(
        _program(),
        "cycle-1",
        _person(),
        "mentee",
        {"interests": [" trauma", "trauma", "research", ""]},
    )
    assert enrollment.pending[0].payload["interests"] == ["trauma", "research"]


def test_unknown_cycle_is_refused():
    with pytest.raises(DomainError) as info:
        Enrollment("e").enroll(_program(), "cycle-x", _person(), "mentee", {})
    assert info.value.field == "cycle_id"


def test_other_institution_needs_a_cross_institution_cycle():
    with pytest.raises(DomainError):
        Enrollment("e").enroll(_program(), "cycle-1", _person("inst-b"), "mentee", {})
    enrollment = Enrollment("e")
    enrollment.enroll(_program(cross=True), "cycle-1", _person("inst-b"), "mentee", {})
    assert enrollment.pending


def test_cycle_names_are_unique_in_a_program():
    program = _program()
    with pytest.raises(DomainError):
        program.open_cycle("cycle-2", "2026-27", False)


def _mentee(program=None, person=None) -> Enrollment:
    enrollment = Enrollment("mentee-e")
    enrollment.enroll(program or _program(), "cycle-1", person or _person(), "mentee", {})
    return _stored(enrollment)


def _mentor(eid: str, person_id: str, cycle: str = "cycle-1") -> Enrollment:
    program = _program()
    if cycle != "cycle-1":
        program.open_cycle(cycle, "2027-28")
    person = Person(person_id)
    person.register("inst-a", "Dr M", f"{person_id}@example.org", "PGY5", "")
    enrollment = Enrollment(eid)
    enrollment.enroll(program, cycle, _stored(person), "mentor", {"capacity": 2})
    return _stored(enrollment)


def test_group_cycles_need_a_group_size():
    program = _program()
    with pytest.raises(DomainError) as info:
        program.open_cycle("c2", "Coaching", pairing_format="group")
    assert info.value.field == "group_size"
    program.open_cycle(
        "c2", "Coaching", pairing_format="group", group_size=5, review_months=[12, 6]
    )
    assert program.pending[-1].payload["review_months"] == [6, 12]


def test_closed_cycles_refuse_enrollment_until_reopened():
    program = _program()
    program.close_cycle("cycle-1")
    with pytest.raises(DomainError, match="closed"):
        Enrollment("e").enroll(program, "cycle-1", _person(), "mentee", {})
    program.reopen_cycle("cycle-1")
    Enrollment("e").enroll(program, "cycle-1", _person(), "mentee", {})


def test_mentees_rank_only_active_mentors_of_their_cycle():
    mentee = _mentee()
    good, other = _mentor("m1", "p-m1"), _mentor("m2", "p-m2", cycle="cycle-2")
    mentee.rank([good])
    assert mentee.pending[-1].payload["mentor_enrollment_ids"] == ["m1"]
    with pytest.raises(DomainError):
        mentee.rank([other])
    with pytest.raises(DomainError):
        mentee.rank([good, good])
    good.withdraw("moved away")
    with pytest.raises(DomainError, match="withdrawn"):
        mentee.rank([good])


def test_mentors_do_not_rank():
    mentor = _mentor("m1", "p-m1")
    with pytest.raises(DomainError):
        mentor.rank([])


def test_identity_needs_explicit_consent():
    with pytest.raises(DomainError) as info:
        Enrollment("e").enroll(
            _program(), "cycle-1", _person(), "mentee", {"identity": {"urim": "yes"}}
        )
    assert info.value.field == "identity"
    enrollment = Enrollment("e")
    enrollment.enroll(
        _program(), "cycle-1", _person(), "mentee", {"identity": {"consent": True, "urim": "yes"}}
    )
    assert enrollment.pending[0].payload["identity"] == {"urim": "yes"}


def test_withdrawal_and_reenrollment():
    mentee = _mentee()
    mentee.withdraw("on leave")
    with pytest.raises(DomainError):
        mentee.update_profile({"goals": "x"})
    mentee.reenroll(_program())
    mentee.update_profile({"goals": "Match into surgical oncology"})
    assert [e.event_type for e in mentee.pending] == [
        "ParticipantWithdrew",
        "ParticipantReenrolled",
        "ProfileUpdated",
    ]


def test_unchanged_profile_records_nothing():
    mentee = _mentee()
    mentee.update_profile({"meeting_mode": "either", "interests": []})
    assert mentee.pending == []


def test_conflicts_are_with_someone_else():
    mentee = _mentee()
    with pytest.raises(DomainError):
        mentee.declare_conflict(_person(), "supervisor")  # the mentee themself
    supervisor = Person("p-sup")
    supervisor.register("inst-a", "Dr Boss", "boss@example.org", "faculty", "")
    mentee.declare_conflict(_stored(supervisor), "supervisor")
    assert mentee.conflicts == {"p-sup": "supervisor"}


def test_staff_roles_are_scoped():
    person = _person()
    with pytest.raises(DomainError):
        person.grant("consortium_admin", "inst-a", None)
    with pytest.raises(DomainError):
        person.grant("coordinator", None, None)
    person.grant("coordinator", "inst-a", None)
    person.grant("coordinator", "inst-a", None)  # granting twice records once
    assert len(person.pending) == 1
    person.revoke("coordinator", "inst-a", None)
    with pytest.raises(DomainError):
        person.revoke("coordinator", "inst-a", None)
