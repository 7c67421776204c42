"""Events on tandem.enrollment.v1."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from ..registry import Registry

registry = Registry()

ROLES_IN_CYCLE = ("mentor", "mentee")


@registry.event("InstitutionAdded")
class InstitutionAdded(ma.Schema):
    institution_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    short_code = ma.fields.String(required=True, validate=validate.Length(min=1, max=20))
    time_zone = ma.fields.String(required=True)


@registry.event("ProgramCreated")
class ProgramCreated(ma.Schema):
    program_id = ma.fields.String(required=True)
    institution_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    program_type = ma.fields.String(required=True)
    guidelines = ma.fields.String(load_default="")


@registry.event("CycleOpened")
class CycleOpened(ma.Schema):
    cycle_id = ma.fields.String(required=True)
    program_id = ma.fields.String(required=True)
    institution_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    cross_institution = ma.fields.Boolean(load_default=False)


@registry.event("PersonRegistered")
class PersonRegistered(ma.Schema):
    person_id = ma.fields.String(required=True)
    institution_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = ma.fields.Email(required=True)
    training_level = ma.fields.String(required=True)
    specialty = ma.fields.String(load_default="")


@registry.event("ParticipantEnrolled")
class ParticipantEnrolled(ma.Schema):
    enrollment_id = ma.fields.String(required=True)
    cycle_id = ma.fields.String(required=True)
    program_id = ma.fields.String(required=True)
    person_id = ma.fields.String(required=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES_IN_CYCLE))
    interests = ma.fields.List(ma.fields.String(), load_default=list)
    capacity = ma.fields.Integer(load_default=None, allow_none=True)
