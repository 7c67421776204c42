"""Events on tandem.enrollment.v1. Other services learn everything about people from these."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ..personal import Personal
from ..registry import Registry
from .vocabulary import PAIRING_FORMATS

registry = Registry()

ROLES_IN_CYCLE = ("mentor", "mentee")
MEETING_MODES = ("in_person", "virtual", "either")
CONFLICT_KINDS = ("supervisor", "assessor", "line_manager", "personal")
STAFF_ROLES = ("coordinator", "consortium_admin")
# When a participant is told they are enrolled: at once (at a steady rate), at a set time, or
# only when the coordinator asks.
INVITATION_MODES = ("now", "at", "manual")

Text = ma.fields.String
TextList = ma.fields.List


def _list(max_length: int = 100):
    return TextList(Text(validate=validate.Length(max=max_length)), load_default=list)


@registry.event("InstitutionAdded")
class InstitutionAdded(ma.Schema):
    institution_id = Text(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    short_code = Text(required=True, validate=validate.Length(min=1, max=20))
    time_zone = Text(required=True)


@registry.event("ProgramCreated")
class ProgramCreated(ma.Schema):
    program_id = Text(required=True)
    institution_id = Text(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    program_type = Text(required=True)
    guidelines = Text(load_default="")


@registry.event("GuidelinesUpdated")
class GuidelinesUpdated(ma.Schema):
    program_id = Text(required=True)
    guidelines = Text(required=True)
    guidelines_version = ma.fields.Integer(required=True)


def _cycle_v1_to_v2(payload: dict) -> dict:
    # Version 1 cycles were one-to-one with no stated expectations or reviews.
    return {
        **payload,
        "pairing_format": "one_to_one",
        "group_size": None,
        "meeting_expectations": "",
        "review_months": [],
    }


@registry.event("CycleOpened", version=2, upcasters={1: _cycle_v1_to_v2})
class CycleOpened(ma.Schema):
    cycle_id = Text(required=True)
    program_id = Text(required=True)
    institution_id = Text(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=100))
    cross_institution = ma.fields.Boolean(load_default=False)
    pairing_format = Text(required=True, validate=validate.OneOf(PAIRING_FORMATS))
    group_size = ma.fields.Integer(load_default=None, allow_none=True)
    meeting_expectations = Text(load_default="")
    review_months = TextList(ma.fields.Integer(), load_default=list)


@registry.event("CycleClosed")
class CycleClosed(ma.Schema):
    cycle_id = Text(required=True)
    program_id = Text(required=True)


@registry.event("CycleReopened")
class CycleReopened(ma.Schema):
    cycle_id = Text(required=True)
    program_id = Text(required=True)


def _person_v1_to_v2(payload: dict) -> dict:
    return {**payload, "pronouns": ""}


# Personal fields are sealed under the person's own key (see personal.py): erasing the key
# erases them from every store, topic and replay.
@registry.event(
    "PersonRegistered",
    version=2,
    upcasters={1: _person_v1_to_v2},
    personal=Personal("person_id", ("name", "email", "pronouns")),
)
class PersonRegistered(ma.Schema):
    person_id = Text(required=True)
    institution_id = Text(required=True)
    name = Text(required=True, validate=validate.Length(min=1, max=200))
    email = ma.fields.Email(required=True)
    training_level = Text(required=True)
    specialty = Text(load_default="")
    pronouns = Text(load_default="")


@registry.event("PersonUpdated", personal=Personal("person_id", ("name", "pronouns")))
class PersonUpdated(ma.Schema):
    """Only the fields that changed are present."""

    person_id = Text(required=True)
    name = Text(validate=validate.Length(min=1, max=200))
    training_level = Text()
    specialty = Text()
    pronouns = Text()


def _enrolled_v1_to_v2(payload: dict) -> dict:
    return {
        **payload,
        "goals": "",
        "languages": [],
        "meeting_mode": "either",
        "availability": [],
        "identity": None,
        "guidelines_accepted_version": None,
    }


# The profile's free text and the self-identification are the person's own.
@registry.event(
    "ParticipantEnrolled",
    version=2,
    upcasters={1: _enrolled_v1_to_v2},
    personal=Personal("person_id", ("goals", "identity")),
)
class ParticipantEnrolled(ma.Schema):
    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    program_id = Text(required=True)
    person_id = Text(required=True)
    role = Text(required=True, validate=validate.OneOf(ROLES_IN_CYCLE))
    interests = _list()
    capacity = ma.fields.Integer(load_default=None, allow_none=True)
    goals = Text(load_default="")
    languages = _list(50)
    meeting_mode = Text(load_default="either", validate=validate.OneOf(MEETING_MODES))
    availability = _list(20)
    # Self-identification, present only when the person consented to its use for matching.
    identity = ma.fields.Dict(keys=Text(), values=Text(), load_default=None, allow_none=True)
    guidelines_accepted_version = ma.fields.Integer(load_default=None, allow_none=True)
    # The coordinator's choice of when to invite them (see InvitationScheduled); absent, they are
    # told at once.
    invitation = Text(load_default=None, allow_none=True, validate=validate.OneOf(INVITATION_MODES))
    invite_at = Text(load_default=None, allow_none=True)  # ISO 8601, UTC


@registry.event("InvitationScheduled")
class InvitationScheduled(ma.Schema):
    """The coordinator chose, again, when an enrolled participant is invited: `now`, `at`
    `invite_at`, or `manual` (not until asked). Someone invited already is not invited twice."""

    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    program_id = Text(required=True)
    person_id = Text(required=True)
    mode = Text(required=True, validate=validate.OneOf(INVITATION_MODES))
    invite_at = Text(load_default=None, allow_none=True)  # ISO 8601, UTC


@registry.event("ProfileUpdated", personal=Personal("person_id", ("goals", "identity")))
class ProfileUpdated(ma.Schema):
    """An enrollment's matching profile; only the fields that changed are present."""

    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    person_id = Text(required=True)
    interests = TextList(Text(validate=validate.Length(max=100)))
    capacity = ma.fields.Integer(allow_none=True)
    goals = Text()
    languages = TextList(Text(validate=validate.Length(max=50)))
    meeting_mode = Text(validate=validate.OneOf(MEETING_MODES))
    availability = TextList(Text(validate=validate.Length(max=20)))
    identity = ma.fields.Dict(keys=Text(), values=Text(), allow_none=True)


@registry.event("InterestRanked")
class InterestRanked(ma.Schema):
    """A mentee's mentors in order of preference (replaces any earlier ranking)."""

    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    person_id = Text(required=True)
    mentor_enrollment_ids = TextList(Text(), required=True)


@registry.event("MenteesRanked")
class MenteesRanked(ma.Schema):
    """A mentor's mentees in order of preference, and those they would not accept (replaces any
    earlier ranking). Stable matching takes the mentor's order from it before scores."""

    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    person_id = Text(required=True)
    mentee_enrollment_ids = TextList(Text(), required=True)
    not_acceptable_enrollment_ids = TextList(Text(), load_default=list)


@registry.event("ConflictDeclared")
class ConflictDeclared(ma.Schema):
    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    person_id = Text(required=True)
    other_person_id = Text(required=True)
    kind = Text(required=True, validate=validate.OneOf(CONFLICT_KINDS))


@registry.event("ConflictRemoved")
class ConflictRemoved(ma.Schema):
    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    person_id = Text(required=True)
    other_person_id = Text(required=True)


@registry.event("GuidelinesAccepted")
class GuidelinesAccepted(ma.Schema):
    enrollment_id = Text(required=True)
    program_id = Text(required=True)
    person_id = Text(required=True)
    guidelines_version = ma.fields.Integer(required=True)


@registry.event("ParticipantWithdrew")
class ParticipantWithdrew(ma.Schema):
    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    person_id = Text(required=True)
    reason = Text(load_default="")


@registry.event("ParticipantReenrolled")
class ParticipantReenrolled(ma.Schema):
    enrollment_id = Text(required=True)
    cycle_id = Text(required=True)
    person_id = Text(required=True)


@registry.event("PersonErased")
class PersonErased(ma.Schema):
    """The consortium admin erased a person: their key is destroyed, so every personal field
    sealed under it reads as "erased person" from now on. Who erased is the event's actor."""

    person_id = Text(required=True)


@registry.event("RoleGranted")
class RoleGranted(ma.Schema):
    person_id = Text(required=True)
    role = Text(required=True, validate=validate.OneOf(STAFF_ROLES))
    institution_id = Text(load_default=None, allow_none=True)
    program_id = Text(load_default=None, allow_none=True)


@registry.event("RoleRevoked")
class RoleRevoked(ma.Schema):
    person_id = Text(required=True)
    role = Text(required=True, validate=validate.OneOf(STAFF_ROLES))
    institution_id = Text(load_default=None, allow_none=True)
    program_id = Text(load_default=None, allow_none=True)


@registry.event("RosterImported")
class RosterImported(ma.Schema):
    cycle_id = Text(required=True)
    program_id = Text(required=True)
    file_sha256 = Text(required=True)
    rows = ma.fields.Integer(required=True)
    people_registered = ma.fields.Integer(required=True)
    enrolled = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)


# "operation": the consortium admin repaired the pipeline (re-drove a dead-lettered message,
# queued a parked outbox row again); `method` says which, `what` names the message or row.
ACCESS_KINDS = ("sign_in", "sign_in_failed", "password_link", "export", "operation")


@registry.event("AccessRecorded")
class AccessRecorded(ma.Schema):
    """An access the audit trail keeps: a sign-in, a failed sign-in, a password link issued, or
    an export. A failed sign-in for an email nobody is registered with carries only the email's
    keyed hash, never the email."""

    kind = Text(required=True, validate=validate.OneOf(ACCESS_KINDS))
    person_id = Text(load_default=None, allow_none=True)
    email_hash = Text(load_default=None, allow_none=True, validate=validate.Length(max=64))
    method = Text(load_default=None, allow_none=True, validate=validate.Length(max=40))
    what = Text(load_default=None, allow_none=True, validate=validate.Length(max=100))
    program_id = Text(load_default=None, allow_none=True)
    rows = ma.fields.Integer(load_default=None, allow_none=True)
