"""Request and response schemas of the enrollment API."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from services.eventkit.contracts.enrollment import (
    CONFLICT_KINDS,
    INVITATION_MODES,
    MEETING_MODES,
    PAIRING_FORMATS,
    STAFF_ROLES,
)
from services.eventkit.contracts.vocabulary import PROGRAM_TYPES, TRAINING_LEVELS

F = ma.fields


class InstitutionIn(ma.Schema):
    name = F.String(required=True, validate=validate.Length(min=1, max=200))
    short_code = F.String(required=True, validate=validate.Length(min=1, max=20))
    time_zone = F.String(required=True)


class InstitutionOut(InstitutionIn):
    id = F.String()


class ProgramIn(ma.Schema):
    name = F.String(required=True, validate=validate.Length(min=1, max=200))
    program_type = F.String(required=True, validate=validate.OneOf(PROGRAM_TYPES))
    guidelines = F.String(load_default="")


class GuidelinesIn(ma.Schema):
    guidelines = F.String(required=True)


class ProgramOut(ProgramIn):
    id = F.String()
    institution_id = F.String()
    guidelines_version = F.Integer()


class CycleIn(ma.Schema):
    name = F.String(required=True, validate=validate.Length(min=1, max=100))
    cross_institution = F.Boolean(load_default=False)
    pairing_format = F.String(load_default="one_to_one", validate=validate.OneOf(PAIRING_FORMATS))
    group_size = F.Integer(load_default=None, allow_none=True)
    meeting_expectations = F.String(load_default="", validate=validate.Length(max=1000))
    review_months = F.List(F.Integer(), load_default=list)


class CycleOut(CycleIn):
    id = F.String()
    program_id = F.String()
    institution_id = F.String()
    is_open = F.Boolean()


class PersonIn(ma.Schema):
    institution_id = F.String(required=True)
    name = F.String(required=True, validate=validate.Length(min=1, max=200))
    email = F.Email(required=True)
    training_level = F.String(required=True, validate=validate.OneOf(TRAINING_LEVELS))
    specialty = F.String(load_default="", validate=validate.Length(max=200))
    pronouns = F.String(load_default="", validate=validate.Length(max=40))


class PersonPatch(ma.Schema):
    name = F.String(validate=validate.Length(min=1, max=200))
    training_level = F.String(validate=validate.OneOf(TRAINING_LEVELS))
    specialty = F.String(validate=validate.Length(max=200))
    pronouns = F.String(validate=validate.Length(max=40))


class PersonOut(PersonIn):
    id = F.String()


class PeopleQuery(ma.Schema):
    institution_id = F.String(required=True)
    q = F.String(load_default="", validate=validate.Length(max=100))


class GrantIn(ma.Schema):
    role = F.String(required=True, validate=validate.OneOf(STAFF_ROLES))
    institution_id = F.String(load_default=None, allow_none=True)
    program_id = F.String(load_default=None, allow_none=True)


class GrantOut(ma.Schema):
    role = F.String()
    institution_id = F.String(allow_none=True)
    program_id = F.String(allow_none=True)


class IdentityIn(ma.Schema):
    consent = F.Boolean(required=True)
    urim = F.String(validate=validate.Length(max=50))
    gender = F.String(validate=validate.Length(max=50))
    first_generation = F.String(validate=validate.Length(max=50))


class ProfileFields(ma.Schema):
    interests = F.List(F.String(validate=validate.Length(max=100)))
    capacity = F.Integer(allow_none=True)
    goals = F.String(validate=validate.Length(max=2000))
    languages = F.List(F.String(validate=validate.Length(max=50)))
    meeting_mode = F.String(validate=validate.OneOf(MEETING_MODES))
    availability = F.List(F.String(validate=validate.Length(max=20)))
    identity = F.Nested(IdentityIn, allow_none=True)


class InvitationIn(ma.Schema):
    """When the participant is told they are enrolled: `now` (at a steady rate), `at` a time
    (`invite_at`, with its offset), or `manual` (only when asked)."""

    mode = F.String(required=True, validate=validate.OneOf(INVITATION_MODES))
    invite_at = F.AwareDateTime(load_default=None, allow_none=True)

    @ma.validates_schema
    def _time_for_at(self, data, **kwargs):
        if data["mode"] == "at" and data.get("invite_at") is None:
            raise ma.ValidationError("Give the date and time to invite at.", "invite_at")


class EnrollmentIn(ProfileFields):
    person_id = F.String(required=True)
    role = F.String(required=True, validate=validate.OneOf(("mentor", "mentee")))
    accept_guidelines = F.Boolean(load_default=False)
    invitation = F.Nested(
        InvitationIn, load_default=None, allow_none=True,
        metadata={"description": "When to invite them; without it, at once"},
    )  # fmt: skip


class InvitationsIn(InvitationIn):
    enrollment_ids = F.List(F.String(), required=True, validate=validate.Length(min=1, max=10_000))


class InvitationsOut(ma.Schema):
    scheduled = F.Integer(metadata={"description": "Active participants given this choice"})


class EnrollmentOut(ma.Schema):
    id = F.String()
    cycle_id = F.String()
    program_id = F.String()
    institution_id = F.String()
    person_id = F.String()
    role = F.String()
    status = F.String()
    interests = F.List(F.String())
    capacity = F.Integer(allow_none=True)
    goals = F.String()
    languages = F.List(F.String())
    meeting_mode = F.String()
    availability = F.List(F.String())
    identity = F.Dict(allow_none=True)
    ranking = F.List(F.String())
    not_acceptable = F.List(F.String(), allow_none=True)
    guidelines_accepted_version = F.Integer(allow_none=True)
    withdrawal_reason = F.String(allow_none=True)
    name = F.String()
    training_level = F.String()


class EnrollmentQuery(ma.Schema):
    role = F.String(validate=validate.OneOf(("mentor", "mentee")))
    status = F.String(validate=validate.OneOf(("active", "withdrawn")))
    q = F.String(load_default="", validate=validate.Length(max=100))


class RankingIn(ma.Schema):
    mentor_enrollment_ids = F.List(F.String(), required=True)


class MenteeRankingIn(ma.Schema):
    mentee_enrollment_ids = F.List(F.String(validate=validate.Length(max=36)), required=True)
    not_acceptable_enrollment_ids = F.List(
        F.String(validate=validate.Length(max=36)),
        load_default=list,
        validate=validate.Length(max=500),
    )


class ConflictIn(ma.Schema):
    other_person_id = F.String(required=True)
    kind = F.String(required=True, validate=validate.OneOf(CONFLICT_KINDS))


class ConflictOut(ma.Schema):
    other_person_id = F.String()
    kind = F.String()


class WithdrawIn(ma.Schema):
    reason = F.String(load_default="", validate=validate.Length(max=500))
