"""Pairing's HTTP API: the candidate pool, runs, the proposal and its edits, publishing, pairs."""

from __future__ import annotations

import marshmallow as ma
import sqlalchemy as sa
from flask_smorest import Blueprint
from marshmallow import validate

from services.eventkit import DomainError, NotFound
from services.eventkit.access import guard, visible
from services.eventkit.contracts.pairing import ALGORITHMS, EDIT_ACTIONS
from services.eventkit.contracts.vocabulary import FORMAT_ALGORITHMS
from services.eventkit.db import one
from services.eventkit.envelope import new_id, utcnow
from services.eventkit.http import principal, request_meta, runtime

from . import access
from . import readmodels as rm
from .access import in_cycle
from .choice import choices_and_capacity, expire_due, mentor_capacity
from .domain import CyclePairing
from .engine import SOFT_RULES, keep_previous_pairs
from .runs import (
    load_pool,
    pair_checker,
    proposal_payload,
    rules_for,
    run_engine,
    training_levels,
)

F = ma.fields

blp = Blueprint("pairing", __name__, url_prefix="/api", description="Pairing")


class CandidateOut(ma.Schema):
    enrollment_id = F.String()
    person_id = F.String()
    name = F.String(allow_none=True)
    training_level = F.String(allow_none=True)
    role = F.String()
    status = F.String()
    interests = F.List(F.String())
    capacity = F.Integer(allow_none=True)


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


class ReasonIn(ma.Schema):
    reason = F.String(required=True, validate=validate.Length(min=1, max=500))


class RematchIn(ma.Schema):
    reason = F.String(load_default="", validate=validate.Length(max=500))


_cycle = access.cycle_row


def _names(conn: sa.Connection, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(rm.people.c.id, rm.people.c.name).where(rm.people.c.id.in_(ids)))
    return {r.id: r.name for r in rows}


def _proposal_view(conn: sa.Connection, cycle_id: str) -> dict:
    row = (
        conn.execute(sa.select(rm.proposals).where(rm.proposals.c.cycle_id == cycle_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("No pairing has been run for this cycle yet.")
    draft = row["draft"] or {"pairs": {}, "unmatched": {}, "blocking_pairs": None}
    pairs, unmatched = draft.get("pairs", {}), draft.get("unmatched", {})
    mentors = {p["mentor_id"] for p in pairs.values()} | {
        p["co_mentor_id"] for p in pairs.values() if p.get("co_mentor_id")
    }
    names = _names(conn, {*pairs, *mentors, *unmatched})
    return {
        "cycle_id": cycle_id, "run_id": row["run_id"], "algorithm": row["algorithm"],
        "status": row["status"], "settings": row["settings"], "excluded": row["excluded"],
        "blocking_pairs": draft.get("blocking_pairs"),
        "total_score": round(sum(p["score"] for p in pairs.values()), 4),
        "pairs": sorted(
            ({"mentee_id": m, "mentee_name": names.get(m), "mentor_name": names.get(p["mentor_id"]),
              "co_mentor_name": names.get(p.get("co_mentor_id")), **p}
             for m, p in pairs.items()),
            key=lambda p: (p["mentor_name"] or "", p["mentee_name"] or ""),
        ),
        "unmatched": [{"person_id": k, "name": names.get(k), "reason": v} for k, v in sorted(unmatched.items())],
        "families": draft.get("families", []),
    }  # fmt: skip


@blp.route("/cycles/<cycle_id>/candidates", methods=["GET"])
@guard("cycle.roster", access.cycle)
@blp.response(200, CandidateOut(many=True))
def candidates(cycle_id):
    """The candidate pool of a cycle, as far as enrollment events have arrived."""
    c, p = rm.candidates, rm.people
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(c, p.c.name, p.c.training_level)
                .join(p, p.c.id == c.c.person_id, isouter=True)
                .where(c.c.cycle_id == cycle_id)
                .order_by(c.c.role, p.c.name)
            )
            .mappings()
            .all()
        )


@blp.route("/cycles/<cycle_id>/runs", methods=["POST"])
@guard("cycle.manage", access.cycle)
@blp.arguments(RunIn)
@blp.response(201, ProposalOut)
def run_pairing(data, cycle_id):
    """Run pairing and get a draft proposal. Pinned pairs and active published pairs are kept;
    excluded people stay out. Runs replace the previous draft."""
    rt = runtime()
    if data["algorithm"] == "random" and data["seed"] is None:
        # A seed is drawn and recorded with the run, so the run can be reproduced.
        data["seed"] = int(new_id().replace("-", "")[:8], 16)
    with rt.engine.begin() as conn:
        cycle = _cycle(conn, cycle_id)
        pairing = rt.load(conn, CyclePairing, cycle_id)
        mentees, mentors = load_pool(conn, cycle_id)
        if not mentees or not mentors:
            raise DomainError(
                "The cycle needs at least one active mentee and one active mentor.", "cycle_id"
            )
        allowed = FORMAT_ALGORITHMS.get(cycle["pairing_format"], ())
        if data["algorithm"] not in allowed:
            raise DomainError(
                f"A {cycle['pairing_format'].replace('_', '-')} cycle is paired with: "
                f"{', '.join(allowed)}.",
                "algorithm",
            )
        rules = rules_for(cycle, data)
        pins = pairing.pins()
        if data["keep_pairs_from_cycle"]:
            pins += _previous_pairs(
                conn, cycle, data["keep_pairs_from_cycle"], mentees, mentors, rules
            )
        settings = {
            **data,
            "group_size": cycle["group_size"],
            "levels": training_levels(conn, [m.id for m in mentors]),
        }
        result = run_engine(
            data["algorithm"], mentees, mentors, rules, settings, pins, pairing.excluded
        )
        run = {
            **data,
            "cross_institution": bool(cycle["cross_institution"]),
            "weights": dict(rules.weights),
        }
        pairing.propose(new_id(), run, proposal_payload(data["algorithm"], result))
        rt.save(conn, pairing, request_meta(cycle["institution_id"]))
        return _proposal_view(conn, cycle_id)


def _previous_pairs(conn, cycle, previous_id, mentees, mentors, rules) -> list[tuple[str, str]]:
    """Last cycle's pairs to keep: both members re-enrolled, still acceptable, and neither asked
    for a rematch (longitudinal programs: the PGY2 stays with the PGY5)."""
    previous = _cycle(conn, previous_id)
    if previous["program_id"] != cycle["program_id"] or previous_id == cycle["id"]:
        raise DomainError(
            "Pairs are kept from an earlier cycle of the same program.", "keep_pairs_from_cycle"
        )
    rows = (
        conn.execute(sa.select(rm.pairs).where(rm.pairs.c.cycle_id == previous_id)).mappings().all()
    )
    kept = [(r["mentee_id"], r["mentor_id"]) for r in rows if r["status"] == "active"]
    opted_out = {r["rematch_requested_by"] for r in rows if r["rematch_requested_by"]}
    return keep_previous_pairs(kept, mentees, mentors, opted_out, rules)


@blp.route("/cycles/<cycle_id>/proposal", methods=["GET"])
@guard("cycle.roster", access.cycle)
@blp.response(200, ProposalOut)
def get_proposal(cycle_id):
    with runtime().reading() as conn:
        return _proposal_view(conn, cycle_id)


@blp.route("/cycles/<cycle_id>/proposal/edits", methods=["POST"])
@guard("cycle.manage", access.cycle)
@blp.arguments(EditIn)
@blp.response(200, ProposalOut)
def edit_proposal(data, cycle_id):
    """Swap, move, unassign, pin, unpin, exclude or include — each with a recorded reason."""
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = _cycle(conn, cycle_id)
        pairing = rt.load(conn, CyclePairing, cycle_id)
        mentees, mentors = load_pool(conn, cycle_id)
        settings = conn.execute(
            sa.select(rm.proposals.c.settings).where(rm.proposals.c.cycle_id == cycle_id)
        ).scalar() or {"min_level_gap": 2, "weights": {}}
        check = pair_checker(mentees, mentors, rules_for(cycle, settings))
        capacity = {m.id: m.capacity for m in mentors}
        pairing.edit(
            data["action"], data["person_id"], data["reason"], check, lambda m: capacity.get(m, 0),
            mentor_id=data["mentor_id"], other_mentee_id=data["other_mentee_id"],
        )  # fmt: skip
        rt.save(conn, pairing, request_meta(cycle["institution_id"]))
        return _proposal_view(conn, cycle_id)


@blp.route("/cycles/<cycle_id>/proposal/publish", methods=["POST"])
@guard("cycle.manage", access.cycle)
@blp.response(200, PairOut(many=True))
def publish(cycle_id):
    """Publish the draft: its pairs become real and participants are told."""
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = _cycle(conn, cycle_id)
        pairing = rt.load(conn, CyclePairing, cycle_id)
        pairing.publish()
        rt.save(conn, pairing, request_meta(cycle["institution_id"]))
        return _pairs(conn, cycle_id)


def _pairs(conn: sa.Connection, cycle_id: str) -> list[dict]:
    query = sa.select(rm.pairs).where(rm.pairs.c.cycle_id == cycle_id)
    rows = conn.execute(query).mappings().all()
    names = _names(conn, {r["mentee_id"] for r in rows} | {r["mentor_id"] for r in rows})
    return [
        {**r, "mentee_name": names.get(r["mentee_id"]), "mentor_name": names.get(r["mentor_id"])}
        for r in rows
    ]


@blp.route("/cycles/<cycle_id>/pairs", methods=["GET"])
@guard("cycle.read", access.cycle, rows="pair.read")
@blp.response(200, PairOut(many=True))
def list_pairs(cycle_id):
    """Coordinators see every pair of the cycle; a participant sees their own."""
    with runtime().reading() as conn:
        cycle = _cycle(conn, cycle_id)
        found = _pairs(conn, cycle_id)
    return visible("pair.read", found, lambda p: in_cycle(cycle, p["mentee_id"], p["mentor_id"]))


def _pair_cycle(conn: sa.Connection, pair_id: str) -> tuple[sa.RowMapping, sa.RowMapping]:
    pair = one(conn, rm.pairs, "pair", pair_id=pair_id)
    return pair, _cycle(conn, pair["cycle_id"])


@blp.route("/pairs/<pair_id>/end", methods=["POST"])
@guard("pair.end", access.pair)
@blp.arguments(ReasonIn)
@blp.response(200, PairOut)
def end_pair(data, pair_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        _pair, cycle = _pair_cycle(conn, pair_id)
        pairing = rt.load(conn, CyclePairing, cycle["id"])
        pairing.end_pair(pair_id, data["reason"])
        rt.save(conn, pairing, request_meta(cycle["institution_id"]))
        return next(p for p in _pairs(conn, cycle["id"]) if p["pair_id"] == pair_id)


@blp.route("/pairs/<pair_id>/rematch-request", methods=["POST"])
@guard("pair.take_part", access.pair)
@blp.arguments(RematchIn)
@blp.response(200, PairOut)
def request_rematch(data, pair_id):
    """A member of the pair asks for a rematch; coordinators see it on the pair."""
    rt = runtime()
    who = principal()
    with rt.engine.begin() as conn:
        _pair, cycle = _pair_cycle(conn, pair_id)
        pairing = rt.load(conn, CyclePairing, cycle["id"])
        pairing.request_rematch(pair_id, who.user_id, data["reason"])
        rt.save(conn, pairing, request_meta(cycle["institution_id"]))
        return next(p for p in _pairs(conn, cycle["id"]) if p["pair_id"] == pair_id)


# --- mentee choice ------------------------------------------------------------------------------


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


def _requests(conn: sa.Connection, cycle_id: str) -> list[dict]:
    r = rm.requests
    query = sa.select(r).where(r.c.cycle_id == cycle_id)
    rows = conn.execute(query.order_by(r.c.mentee_id, r.c.rank)).mappings().all()
    names = _names(conn, {x["mentee_id"] for x in rows} | {x["mentor_id"] for x in rows})
    return [
        {**x, "mentee_name": names.get(x["mentee_id"]), "mentor_name": names.get(x["mentor_id"])}
        for x in rows
    ]


@blp.route("/cycles/<cycle_id>/choice-rounds", methods=["POST"])
@guard("cycle.manage", access.cycle)
@blp.arguments(ChoiceRoundIn)
@blp.response(201, RequestOut(many=True))
def open_choice_round(data, cycle_id):
    """Mentee choice: each mentee's request goes to their first ranked mentor the rules allow.
    A mentor accepts or declines before the deadline; a declined, unanswered or full request
    moves on to the mentee's next choice."""
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = _cycle(conn, cycle_id)
        if cycle["pairing_format"] != "one_to_one":
            raise DomainError("Mentee choice is for one-to-one cycles.", "cycle_id")
        choices, capacity = choices_and_capacity(conn, cycle, data["min_level_gap"])
        pairing = rt.load(conn, CyclePairing, cycle_id)
        pairing.open_choice_round(new_id(), choices, capacity, utcnow(), data["response_hours"])
        rt.save(conn, pairing, request_meta(cycle["institution_id"]))
        return [x for x in _requests(conn, cycle_id) if x["round_id"] == pairing.round["round_id"]]


@blp.route("/cycles/<cycle_id>/requests", methods=["GET"])
@guard("cycle.read", access.cycle, rows="request.read")
@blp.response(200, RequestOut(many=True))
def list_requests(cycle_id):
    """Coordinators see every request of the cycle; a participant sees their own."""
    with runtime().reading() as conn:
        cycle = _cycle(conn, cycle_id)
        found = _requests(conn, cycle_id)
    return visible("request.read", found, lambda r: in_cycle(cycle, r["mentee_id"], r["mentor_id"]))


def _answer(request_id: str, accept: bool, reason: str):
    rt = runtime()
    with rt.engine.begin() as conn:
        row = one(conn, rm.requests, "request", request_id=request_id)
        cycle = _cycle(conn, row["cycle_id"])
        capacity = mentor_capacity(conn, cycle["id"])
        pairing = rt.load(conn, CyclePairing, cycle["id"])
        pairing.respond(request_id, accept, reason, capacity, utcnow())
        rt.save(conn, pairing, request_meta(cycle["institution_id"]))
        return next(x for x in _requests(conn, cycle["id"]) if x["request_id"] == request_id)


@blp.route("/requests/<request_id>/accept", methods=["POST"])
@guard("request.answer", access.request_to_mentor)
@blp.response(200, RequestOut)
def accept_request(request_id):
    return _answer(request_id, True, "")


@blp.route("/requests/<request_id>/decline", methods=["POST"])
@guard("request.answer", access.request_to_mentor)
@blp.arguments(DeclineIn)
@blp.response(200, RequestOut)
def decline_request(data, request_id):
    return _answer(request_id, False, data["reason"])


@blp.route("/cycles/<cycle_id>/choice-rounds/expire", methods=["POST"])
@guard("cycle.manage", access.cycle)
@blp.response(200, RequestOut(many=True))
def expire_requests(cycle_id):
    """Move on every request past its deadline now (the worker also does this every 30 s)."""
    rt = runtime()
    expire_due(rt, cycle_id)
    with rt.reading() as conn:
        return _requests(conn, cycle_id)
