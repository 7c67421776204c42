"""Events on tandem.pairing.v1."""

from __future__ import annotations

import math
from typing import Any

import marshmallow as ma
from marshmallow import validate

from ..registry import Registry
from .vocabulary import ALGORITHMS

registry = Registry()

EDIT_ACTIONS = ("move", "swap", "unassign", "pin", "unpin", "exclude", "include")

F = ma.fields


class Breakdown(F.Field):
    """A pair's score rule by rule: names to finite numbers. Checked in one pass: a draft holds
    thousands, and a key and a value field per rule cost half of loading the whole draft."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and _finite(v) for k, v in value.items()
        ):
            raise ma.ValidationError("Give each rule's score as a finite number.")
        return {k: float(v) for k, v in value.items()}


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class ProposedPair(ma.Schema):
    mentee_id = F.String(required=True)
    mentor_id = F.String(required=True)
    co_mentor_id = F.String(load_default=None, allow_none=True)  # a family's mid-level resident
    score = F.Float(required=True)
    breakdown = Breakdown(required=True)
    pinned = F.Boolean(load_default=False)


class ProposedFamily(ma.Schema):
    senior_id = F.String(required=True)
    mid_id = F.String(required=True)
    junior_ids = F.List(F.String(), required=True)
    total_score = F.Float(required=True)


class Unmatched(ma.Schema):
    person_id = F.String(required=True)
    reason = F.String(required=True)


class JuniorSlot(ma.Schema):
    levels = F.List(F.String(), required=True)
    count = F.Integer(required=True)


class LevelRulesFields(ma.Schema):
    """A cycle's eligible training levels per role. An empty list lets any level take the role
    (one-to-one and group cycles); families name their senior, mid-level and junior slots."""

    min_level_gap = F.Integer(required=True)
    mentee_levels = F.List(F.String(), load_default=list)
    mentor_levels = F.List(F.String(), load_default=list)
    senior_levels = F.List(F.String(), load_default=list)
    mid_levels = F.List(F.String(), load_default=list)
    junior_slots = F.List(F.Nested(JuniorSlot), load_default=list)


@registry.event("LevelRulesSet")
class LevelRulesSet(LevelRulesFields):
    """A coordinator set who may take each role in the cycle (before its first run)."""

    cycle_id = F.String(required=True)


@registry.event("PairingRunRequested")
class PairingRunRequested(ma.Schema):
    run_id = F.String(required=True)
    cycle_id = F.String(required=True)
    algorithm = F.String(required=True, validate=validate.OneOf(ALGORITHMS))
    seed = F.Integer(load_default=None, allow_none=True)
    min_level_gap = F.Integer(required=True)
    cross_institution = F.Boolean(required=True)
    weights = F.Dict(keys=F.String(), values=F.Float(), required=True)
    candidates_per_mentee = F.Integer(load_default=None, allow_none=True)
    juniors_per_family = F.Integer(load_default=None, allow_none=True)
    keep_pairs_from_cycle = F.String(load_default=None, allow_none=True)
    # The cycle's eligible levels the run applied (None: the level gap alone).
    level_rules = F.Nested(LevelRulesFields, load_default=None, allow_none=True)


def proposal_summary(payload: dict) -> dict:
    """ProposalGenerated as published: counts and where to read the draft, not the draft.

    A draft for a 5,000-person roster is over a megabyte, more than the broker takes; the pairing
    API serves the whole of it (`GET /api/cycles/{cycle_id}/proposal`) from its read model.
    Idempotent, so a reader can pass any ProposalGenerated it sees, full or summarised.
    """
    if payload.get("summary"):
        return payload
    return {
        "run_id": payload["run_id"],
        "cycle_id": payload["cycle_id"],
        "algorithm": payload["algorithm"],
        "blocking_pairs": payload.get("blocking_pairs"),
        "pair_count": len(payload.get("pairs", [])),
        "unmatched_count": len(payload.get("unmatched", [])),
        "family_count": len(payload.get("families", [])),
        "proposal_path": f"/api/cycles/{payload['cycle_id']}/proposal",
        "summary": True,
    }


@registry.event("ProposalGenerated", wire=proposal_summary)
class ProposalGenerated(ma.Schema):
    """A draft for coordinators to review: every pair with its score rule by rule, every unmatched
    person with the reason, and for stable runs the number of blocking pairs.

    Stored whole; on the topic it is a summary (see ProposalGeneratedOnWire)."""

    run_id = F.String(required=True)
    cycle_id = F.String(required=True)
    algorithm = F.String(required=True)
    pairs = F.List(F.Nested(ProposedPair), required=True)
    unmatched = F.List(F.Nested(Unmatched), required=True)
    blocking_pairs = F.Integer(load_default=None, allow_none=True)
    families = F.List(F.Nested(ProposedFamily), load_default=list)


class ProposalGeneratedOnWire(ma.Schema):
    """What readers of tandem.pairing.v1 receive for ProposalGenerated (proposal_summary)."""

    run_id = F.String(required=True)
    cycle_id = F.String(required=True)
    algorithm = F.String(required=True)
    blocking_pairs = F.Integer(allow_none=True)
    pair_count = F.Integer(required=True)
    unmatched_count = F.Integer(required=True)
    family_count = F.Integer(required=True)
    proposal_path = F.String(required=True)
    summary = F.Boolean(required=True)


@registry.event("ProposalEdited")
class ProposalEdited(ma.Schema):
    run_id = F.String(required=True)
    cycle_id = F.String(required=True)
    action = F.String(required=True, validate=validate.OneOf(EDIT_ACTIONS))
    person_id = F.String(required=True)  # the mentee (or, for exclude/include, anyone)
    mentor_id = F.String(load_default=None, allow_none=True)
    other_mentee_id = F.String(load_default=None, allow_none=True)
    reason = F.String(required=True, validate=validate.Length(min=1, max=500))
    score = F.Float(load_default=None, allow_none=True)
    breakdown = F.Dict(keys=F.String(), values=F.Float(), load_default=None, allow_none=True)
    other_score = F.Float(load_default=None, allow_none=True)
    other_breakdown = F.Dict(keys=F.String(), values=F.Float(), load_default=None, allow_none=True)


@registry.event("FamilyFormed")
class FamilyFormed(ma.Schema):
    """A mentoring family as published (families cycles publish no pairs): its senior, its
    mid-level resident and every junior (earlier juniors included when a re-run grows it)."""

    family_id = F.String(required=True)
    cycle_id = F.String(required=True)
    run_id = F.String(required=True)
    senior_id = F.String(required=True)
    mid_id = F.String(required=True)
    junior_ids = F.List(F.String(), required=True)


@registry.event("PairingPublished")
class PairingPublished(ma.Schema):
    run_id = F.String(required=True)
    cycle_id = F.String(required=True)
    pairs_created = F.Integer(required=True)
    groups_formed = F.Integer(load_default=0)  # formed or grown
    families_formed = F.Integer(load_default=0)


@registry.event("PairCreated")
class PairCreated(ma.Schema):
    pair_id = F.String(required=True)
    cycle_id = F.String(required=True)
    run_id = F.String(required=True)
    mentee_id = F.String(required=True)
    mentor_id = F.String(required=True)
    score = F.Float(required=True)


@registry.event("PairEnded")
class PairEnded(ma.Schema):
    pair_id = F.String(required=True)
    cycle_id = F.String(required=True)
    mentee_id = F.String(required=True)
    mentor_id = F.String(required=True)
    reason = F.String(required=True, validate=validate.Length(min=1, max=500))


@registry.event("RematchRequested")
class RematchRequested(ma.Schema):
    pair_id = F.String(required=True)  # the pair's, or the group's or family's id
    cycle_id = F.String(required=True)
    person_id = F.String(required=True)
    reason = F.String(load_default="", validate=validate.Length(max=500))


@registry.event("GroupFormed")
class GroupFormed(ma.Schema):
    """A coaching group as published (group cycles publish no pairs): its coach and every
    member (earlier members included when a re-run grows it, under the same id)."""

    group_id = F.String(required=True)
    cycle_id = F.String(required=True)
    run_id = F.String(required=True)
    coach_id = F.String(required=True)
    member_ids = F.List(F.String(), required=True)


@registry.event("GroupEnded")
class GroupEnded(ma.Schema):
    group_id = F.String(required=True)
    cycle_id = F.String(required=True)
    reason = F.String(required=True, validate=validate.Length(min=1, max=500))


@registry.event("FamilyEnded")
class FamilyEnded(ma.Schema):
    family_id = F.String(required=True)
    cycle_id = F.String(required=True)
    reason = F.String(required=True, validate=validate.Length(min=1, max=500))


# --- mentee choice: mentees request mentors in rank order; mentors accept or decline in time ----


@registry.event("ChoiceRoundOpened")
class ChoiceRoundOpened(ma.Schema):
    round_id = F.String(required=True)
    cycle_id = F.String(required=True)
    response_hours = F.Integer(required=True)
    # Per mentee: the ranked mentors the hard rules allow, best first (what requests walk down).
    choices = F.Dict(keys=F.String(), values=F.List(F.String()), required=True)


@registry.event("MentorRequested")
class MentorRequested(ma.Schema):
    request_id = F.String(required=True)
    round_id = F.String(required=True)
    cycle_id = F.String(required=True)
    mentee_id = F.String(required=True)
    mentor_id = F.String(required=True)
    rank = F.Integer(required=True)  # 1 = the mentee's first choice
    deadline = F.String(required=True)  # ISO 8601, UTC


class _RequestOutcome(ma.Schema):
    request_id = F.String(required=True)
    round_id = F.String(required=True)
    cycle_id = F.String(required=True)
    mentee_id = F.String(required=True)
    mentor_id = F.String(required=True)


@registry.event("RequestAccepted")
class RequestAccepted(_RequestOutcome):
    pass


@registry.event("RequestDeclined")
class RequestDeclined(_RequestOutcome):
    reason = F.String(load_default="")


@registry.event("RequestExpired")
class RequestExpired(_RequestOutcome):
    pass


@registry.event("MenteeUnmatched")
class MenteeUnmatched(ma.Schema):
    round_id = F.String(required=True)
    cycle_id = F.String(required=True)
    mentee_id = F.String(required=True)
    reason = F.String(required=True)
