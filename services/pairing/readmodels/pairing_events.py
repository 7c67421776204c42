"""The projection of pairing's own events: the proposal of each cycle (its draft as edited),
the published pairs, groups and families, and mentee-choice requests."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Envelope, Projection

from ..domain.proposal import apply_edit, draft_from_proposal
from ..domain.units import family_unit, group_unit
from .tables import pairs, proposals, requests, units

pairing_view = Projection("pairing_view", tables=[proposals, pairs, requests, units])


def _proposal(conn: sa.Connection, cycle_id: str) -> sa.Row | None:
    return conn.execute(sa.select(proposals).where(proposals.c.cycle_id == cycle_id)).first()


@pairing_view.on("PairingRunRequested")
def _run(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    settings = {k: p[k] for k in ("seed", "min_level_gap", "weights", "candidates_per_mentee")}
    settings["level_rules"] = p.get("level_rules")
    existing = _proposal(conn, p["cycle_id"])
    excluded = existing.excluded if existing else []
    conn.execute(proposals.delete().where(proposals.c.cycle_id == p["cycle_id"]))
    conn.execute(proposals.insert().values(
        cycle_id=p["cycle_id"], run_id=p["run_id"], algorithm=p["algorithm"], draft={},
        excluded=excluded, status="running", settings=settings,
    ))  # fmt: skip


@pairing_view.on("ProposalGenerated")
def _generated(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        proposals.update()
        .where(proposals.c.cycle_id == e.payload["cycle_id"])
        .values(draft=draft_from_proposal(e.payload), status="draft")
    )


@pairing_view.on("ProposalEdited")
def _edited(conn: sa.Connection, e: Envelope) -> None:
    row = _proposal(conn, e.payload["cycle_id"])
    draft, excluded = dict(row.draft), set(row.excluded)
    apply_edit(draft, excluded, e.payload)
    conn.execute(
        proposals.update()
        .where(proposals.c.cycle_id == e.payload["cycle_id"])
        .values(draft=draft, excluded=sorted(excluded))
    )


@pairing_view.on("PairingPublished")
def _published(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        proposals.update()
        .where(proposals.c.cycle_id == e.payload["cycle_id"])
        .values(status="published")
    )


@pairing_view.on("PairCreated")
def _pair(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(pairs.insert().values(
        pair_id=p["pair_id"], cycle_id=p["cycle_id"], run_id=p["run_id"], mentee_id=p["mentee_id"],
        mentor_id=p["mentor_id"], score=p["score"], status="active",
    ))  # fmt: skip


@pairing_view.on("PairEnded")
def _ended(conn: sa.Connection, e: Envelope) -> None:
    conn.execute(
        pairs.update()
        .where(pairs.c.pair_id == e.payload["pair_id"])
        .values(status="ended", ended_reason=e.payload["reason"])
    )


@pairing_view.on("GroupFormed", "FamilyFormed")
def _unit(conn: sa.Connection, e: Envelope) -> None:
    """A group or family, formed or grown by a re-run (same id, every member)."""
    unit = (group_unit if e.event_type == "GroupFormed" else family_unit)(e.payload)
    members = {"member_ids": sorted(unit["roles"]), "roles": unit["roles"]}
    found = units.c.unit_id == unit["unit_id"]
    if conn.execute(sa.select(units.c.unit_id).where(found)).first():
        conn.execute(units.update().where(found).values(run_id=e.payload["run_id"], **members))
        return
    conn.execute(units.insert().values(
        unit_id=unit["unit_id"], cycle_id=e.payload["cycle_id"], run_id=e.payload["run_id"],
        kind=unit["kind"], status="active", **members,
    ))  # fmt: skip


@pairing_view.on("GroupEnded", "FamilyEnded")
def _unit_ended(conn: sa.Connection, e: Envelope) -> None:
    unit_id = e.payload.get("group_id") or e.payload["family_id"]
    conn.execute(
        units.update()
        .where(units.c.unit_id == unit_id)
        .values(status="ended", ended_reason=e.payload["reason"])
    )


@pairing_view.on("RematchRequested")
def _rematch(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    asked = {"rematch_requested_by": p["person_id"], "rematch_reason": p["reason"]}
    conn.execute(pairs.update().where(pairs.c.pair_id == p["pair_id"]).values(**asked))
    conn.execute(units.update().where(units.c.unit_id == p["pair_id"]).values(**asked))


@pairing_view.on("MentorRequested")
def _requested(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(requests.insert().values(
        request_id=p["request_id"], round_id=p["round_id"], cycle_id=p["cycle_id"],
        mentee_id=p["mentee_id"], mentor_id=p["mentor_id"], rank=p["rank"],
        deadline=p["deadline"], status="pending",
    ))  # fmt: skip


@pairing_view.on("RequestAccepted", "RequestDeclined", "RequestExpired")
def _answered(conn: sa.Connection, e: Envelope) -> None:
    status = {"RequestAccepted": "accepted", "RequestDeclined": "declined"}.get(
        e.event_type, "expired"
    )
    conn.execute(
        requests.update()
        .where(requests.c.request_id == e.payload["request_id"])
        .values(status=status, reason=e.payload.get("reason"))
    )
