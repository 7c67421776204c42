"""Who may act on feedback's resources: the resources as `services.feedback.api.access` builds them
from feedback's own rows, decided by the one policy (`services.eventkit.policy`)."""

import datetime as dt

from services.eventkit.auth import ADMIN, COORDINATOR, MENTEE, MENTOR, SYSTEM, Grant, Principal
from services.eventkit.policy import Resource, Who, allowed_as
from services.feedback.api.access import VIEWER_ROLES, concern_of, instance_of, pair_of
from services.feedback.domain.relationships import Relationship

A, B = "inst-a", "inst-b"
CYCLE = {"id": "c1", "institution_id": A, "program_id": "prog-1"}
PAIR = Relationship(
    id="p1", cycle_id="c1", kind="pair", members={"mentor": "mentor", "mentee": "mentee"},
    active=True, started_on=dt.date(2026, 1, 1),
)  # fmt: skip


def who(user: str, *grants: Grant) -> Principal:
    return Principal(user, grants)


PROGRAM_COORD = who("pc", Grant(COORDINATOR, A, "prog-1"))
OTHER_PROGRAM_COORD = who("oc", Grant(COORDINATOR, A, "prog-2"))
INSTITUTION_COORD = who("ic", Grant(COORDINATOR, A))
OTHER_INSTITUTION_COORD = who("bc", Grant(COORDINATOR, B))
ADMIN_WIDE = who("admin", Grant(ADMIN))
ADMIN_OF_B = who("admin-b", Grant(ADMIN, B))
SYSTEM_WIDE = who("system", Grant(SYSTEM))
SYSTEM_OF_B = who("system-b", Grant(SYSTEM, B))
MENTEE_P = who("mentee", Grant(MENTEE, A, "prog-1"))
MENTOR_P = who("mentor", Grant(MENTOR, A, "prog-1"))
STRANGER = who("stranger", Grant(MENTEE, A, "prog-1"))


def concern(escalated=False, parties=("mentor",)):
    row = {"institution_id": A, "raised_by": "mentee", "parties": list(parties),
           "escalated": escalated}  # fmt: skip
    return concern_of(row, CYCLE)


def test_a_pair_is_its_cycles_program_with_its_members():
    pair = pair_of(PAIR, CYCLE)
    assert (pair.institution_id, pair.program_id) == (A, "prog-1")
    assert pair.people == {"mentor", "mentee"}
    for reader in (PROGRAM_COORD, INSTITUTION_COORD, ADMIN_WIDE, MENTEE_P, MENTOR_P):
        assert allowed_as(reader, "pair.read", pair) is not None
    for refused in (OTHER_PROGRAM_COORD, OTHER_INSTITUTION_COORD, ADMIN_OF_B, SYSTEM_WIDE,
                    STRANGER):  # fmt: skip
        assert allowed_as(refused, "pair.read", pair) is None
    assert allowed_as(MENTEE_P, "pair.take_part", pair) == Who.SUBJECT
    for refused in (PROGRAM_COORD, INSTITUTION_COORD, ADMIN_WIDE, STRANGER):
        assert allowed_as(refused, "pair.take_part", pair) is None


def test_a_member_from_another_institution_is_still_a_member():
    guest = who("mentor", Grant(MENTOR, B, "prog-b"))
    pair = pair_of(PAIR, CYCLE)
    assert allowed_as(guest, "pair.read", pair) == Who.SUBJECT
    assert allowed_as(OTHER_INSTITUTION_COORD, "pair.read", pair) is None


def test_who_may_read_and_handle_a_concern():
    open_ = concern()
    assert open_.people == {"mentee"} and open_.parties == {"mentee", "mentor"}
    assert VIEWER_ROLES[allowed_as(MENTEE_P, "concern.read", open_)] == "raiser"
    assert VIEWER_ROLES[allowed_as(PROGRAM_COORD, "concern.read", open_)] == "coordinator"
    assert VIEWER_ROLES[allowed_as(INSTITUTION_COORD, "concern.read", open_)] == "coordinator"
    for refused in (MENTOR_P, OTHER_PROGRAM_COORD, OTHER_INSTITUTION_COORD, ADMIN_WIDE,
                    SYSTEM_WIDE, STRANGER):  # fmt: skip
        assert allowed_as(refused, "concern.read", open_) is None
    # The raiser reads but never handles; a party never does, whatever roles they hold.
    assert allowed_as(MENTEE_P, "concern.handle", open_) is None
    party = who("mentor", Grant(MENTOR, A, "prog-1"), Grant(COORDINATOR, A), Grant(ADMIN))
    assert allowed_as(party, "concern.read", concern(escalated=True)) is None
    assert allowed_as(party, "concern.access_log", concern(escalated=True)) is None
    raiser_coordinator = who("mentee", Grant(COORDINATOR, A))
    assert allowed_as(raiser_coordinator, "concern.read", open_) == Who.SUBJECT
    assert allowed_as(raiser_coordinator, "concern.handle", open_) is None

    escalated = concern(escalated=True)
    assert VIEWER_ROLES[allowed_as(ADMIN_WIDE, "concern.read", escalated)] == "consortium_admin"
    assert allowed_as(ADMIN_WIDE, "concern.handle", escalated) == Who.ESCALATED_ADMIN
    assert allowed_as(ADMIN_OF_B, "concern.read", escalated) is None
    assert allowed_as(OTHER_PROGRAM_COORD, "concern.read", escalated) is None


def test_survey_instances_are_answered_by_the_people_issued_them():
    issued = instance_of({"institution_id": A}, CYCLE, ["mentee", "mentor"])
    assert allowed_as(MENTEE_P, "survey.answer", issued) == Who.SUBJECT
    for refused in (STRANGER, PROGRAM_COORD, ADMIN_WIDE):
        assert allowed_as(refused, "survey.answer", issued) is None


def test_health_goes_to_the_programs_coordinators_first():
    cycle = Resource(A, "prog-1")
    both = who("both", Grant(ADMIN), Grant(COORDINATOR, A, "prog-1"))
    assert allowed_as(both, "cycle.health", cycle) == Who.COORDINATOR  # sees names
    assert allowed_as(ADMIN_WIDE, "cycle.health", cycle) == Who.ADMIN  # sees pseudonyms
    for refused in (OTHER_PROGRAM_COORD, ADMIN_OF_B, SYSTEM_OF_B, MENTEE_P):
        assert allowed_as(refused, "cycle.health", cycle) is None
