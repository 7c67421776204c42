"""The pairing API's request and response bodies, by capability."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from services.eventkit.contracts.pairing import ALGORITHMS, EDIT_ACTIONS
from services.eventkit.contracts.vocabulary import TRAINING_LEVELS

from ..engine import SOFT_RULES

F = ma.fields

# --- the candidate pool ------------------------------------------------------------------------


class CandidateOut(ma.Schema):
    enrollment_id = F.String()
    person_id = F.String()
    name = F.String(allow_none=True)
    training_level = F.String(allow_none=True)
    role = F.String()
    status = F.String()
    interests = F.List(F.String())
    capacity = F.Integer(allow_none=True)
    # Declared conflicts of interest (other_person_id, kind): never paired with them.
    conflicts = F.List(F.Dict())
    # Enrollment ids, best first: a mentee's mentors or a mentor's mentees; and the mentees a
    # mentor would not accept.
    ranking = F.List(F.String(), allow_none=True)
    not_acceptable = F.List(F.String(), allow_none=True)


class EligibleMenteeOut(ma.Schema):
    """A mentee as the mentors who may rank them see them."""

    enrollment_id = F.String()
    person_id = F.String()
    name = F.String(allow_none=True)
    training_level = F.String(allow_none=True)
    interests = F.List(F.String())
    languages = F.List(F.String(), allow_none=True)
    meeting_mode = F.String()


# --- eligible levels -----------------------------------------------------------------------------


def _levels():
    return F.List(F.String(validate=validate.OneOf(TRAINING_LEVELS)), load_default=list)


class JuniorSlotIn(ma.Schema):
    levels = F.List(
        F.String(validate=validate.OneOf(TRAINING_LEVELS)),
        required=True,
        validate=validate.Length(min=1, error="Choose at least one level."),
    )
    count = F.Integer(required=True, validate=validate.Range(min=1, max=8))


class LevelRulesIn(ma.Schema):
    """Who may take each role; an empty list lets any level take it. Families name the levels of
    the senior, the mid-level and each junior place (e.g. one PGY1 and one PGY2 per family)."""

    min_level_gap = F.Integer(load_default=1, validate=validate.Range(min=0, max=10))
    mentee_levels = _levels()
    mentor_levels = _levels()
    senior_levels = _levels()
    mid_levels = _levels()
    junior_slots = F.List(
        F.Nested(JuniorSlotIn), load_default=list, validate=validate.Length(max=4)
    )


class LeftOutOut(ma.Schema):
    person_id = F.String()
    name = F.String(allow_none=True)
    training_level = F.String()
    role = F.String()
    rule = F.String()
    reason = F.String()


class LevelRulesOut(ma.Schema):
    cycle_id = F.String()
    pairing_format = F.String()
    rules = F.Dict()
    is_set = F.Boolean()
    editable = F.Boolean()
    mentees = F.Integer()
    mentors = F.Integer()
    counts = F.List(F.Dict())
    left_out = F.List(F.Nested(LeftOutOut))


# --- runs and the proposal ---------------------------------------------------------------------


class RunIn(ma.Schema):
    algorithm = F.String(required=True, validate=validate.OneOf(ALGORITHMS))
    seed = F.Integer(load_default=None, allow_none=True)
    min_level_gap = F.Integer(load_default=2, validate=validate.Range(min=0, max=10))
    weights = F.Dict(
        keys=F.String(validate=validate.OneOf(SOFT_RULES)),
        values=F.Float(validate=validate.Range(min=0, max=100)),
        load_default=dict,
    )
    candidates_per_mentee = F.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1)
    )
    juniors_per_family = F.Integer(
        load_default=None, allow_none=True, validate=validate.Range(min=1, max=8)
    )
    keep_pairs_from_cycle = F.String(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "a previous cycle of the same program: keep its pairs whose "
            "members both re-enrolled and did not ask for a rematch"
        },
    )


class EditIn(ma.Schema):
    action = F.String(required=True, validate=validate.OneOf(EDIT_ACTIONS))
    person_id = F.String(required=True)
    mentor_id = F.String(load_default=None, allow_none=True)
    other_mentee_id = F.String(load_default=None, allow_none=True)
    reason = F.String(required=True, validate=validate.Length(min=1, max=500))


class ProposedPairOut(ma.Schema):
    mentee_id = F.String()
    mentee_name = F.String(allow_none=True)
    mentor_id = F.String()
    mentor_name = F.String(allow_none=True)
    co_mentor_id = F.String(allow_none=True)
    co_mentor_name = F.String(allow_none=True)
    score = F.Float()
    breakdown = F.Dict(keys=F.String(), values=F.Float())
    pinned = F.Boolean()
    # Where each ranked the other, 1 for a first choice; None if they did not rank them.
    mentee_rank = F.Integer(allow_none=True)
    mentor_rank = F.Integer(allow_none=True)


class UnmatchedOut(ma.Schema):
    person_id = F.String()
    name = F.String(allow_none=True)
    reason = F.String()


class ProposalOut(ma.Schema):
    cycle_id = F.String()
    run_id = F.String()
    algorithm = F.String()
    status = F.String()
    settings = F.Dict()
    pairs = F.List(F.Nested(ProposedPairOut))
    unmatched = F.List(F.Nested(UnmatchedOut))
    excluded = F.List(F.String())
    blocking_pairs = F.Integer(allow_none=True)
    total_score = F.Float()
    families = F.List(F.Dict())


# --- published pairs ---------------------------------------------------------------------------


class PairOut(ma.Schema):
    pair_id = F.String()
    cycle_id = F.String()
    mentee_id = F.String()
    mentee_name = F.String(allow_none=True)
    mentor_id = F.String()
    mentor_name = F.String(allow_none=True)
    score = F.Float()
    status = F.String()
    ended_reason = F.String(allow_none=True)
    rematch_requested_by = F.String(allow_none=True)
    rematch_reason = F.String(allow_none=True)


class UnitMemberOut(ma.Schema):
    person_id = F.String()
    name = F.String(allow_none=True)
    role = F.String(allow_none=True)  # coach | member | senior | mid | junior


class UnitOut(ma.Schema):
    """A published coaching group or family."""

    unit_id = F.String()
    cycle_id = F.String()
    kind = F.String()  # group | family
    members = F.List(F.Nested(UnitMemberOut))
    status = F.String()
    ended_reason = F.String(allow_none=True)
    rematch_requested_by = F.String(allow_none=True)
    rematch_reason = F.String(allow_none=True)


class ReasonIn(ma.Schema):
    reason = F.String(required=True, validate=validate.Length(min=1, max=500))


class RematchIn(ma.Schema):
    reason = F.String(load_default="", validate=validate.Length(max=500))


# --- mentee choice -----------------------------------------------------------------------------


class ChoiceRoundIn(ma.Schema):
    response_hours = F.Integer(load_default=72, validate=validate.Range(min=1, max=24 * 30))
    min_level_gap = F.Integer(load_default=2, validate=validate.Range(min=0, max=10))


class RequestOut(ma.Schema):
    request_id = F.String()
    round_id = F.String()
    cycle_id = F.String()
    mentee_id = F.String()
    mentee_name = F.String(allow_none=True)
    mentor_id = F.String()
    mentor_name = F.String(allow_none=True)
    rank = F.Integer()
    deadline = F.String()
    status = F.String()
    reason = F.String(allow_none=True)


class DeclineIn(ma.Schema):
    reason = F.String(load_default="", validate=validate.Length(max=500))
