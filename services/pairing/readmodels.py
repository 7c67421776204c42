"""Pairing's candidate pool, projected from enrollment events.

People, cycles and enrollments live in different streams, so their events may arrive in any
order: each goes to its own table and they are joined when read.
"""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Envelope, Projection, define_kit_tables
from services.eventkit.directory import Directory

from .domain import apply_edit, draft_from_proposal

metadata = sa.MetaData()
kit = define_kit_tables(metadata)

people = sa.Table(
    "people", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("training_level", sa.String(30), nullable=False),
    sa.Column("specialty", sa.String(200), nullable=False),
)  # fmt: skip
cycles = sa.Table(
    "cycles", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("program_id", sa.String(36), nullable=False),
    sa.Column("institution_id", sa.String(36), nullable=False, index=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("is_open", sa.Boolean, nullable=False),
    sa.Column("cross_institution", sa.Boolean, nullable=False),
    sa.Column("pairing_format", sa.String(20), nullable=False),
    sa.Column("group_size", sa.Integer, nullable=True),
)  # fmt: skip
candidates = sa.Table(
    "candidates", metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("institution_id", sa.String(36), nullable=False),
    sa.Column("person_id", sa.String(36), nullable=False),
    sa.Column("role", sa.String(10), nullable=False),
    sa.Column("interests", sa.JSON, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=True),
    sa.Column("status", sa.String(10), nullable=False, server_default="active"),
    sa.Column("goals", sa.Text, nullable=False, server_default=""),
    sa.Column("languages", sa.JSON, nullable=True),
    sa.Column("meeting_mode", sa.String(10), nullable=False, server_default="either"),
    sa.Column("availability", sa.JSON, nullable=True),
    sa.Column("identity", sa.JSON, nullable=True),
    sa.Column("ranking", sa.JSON, nullable=True),
)  # fmt: skip
conflicts = sa.Table(
    "conflicts", metadata,
    sa.Column("enrollment_id", sa.String(36), primary_key=True),
    sa.Column("other_person_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(20), nullable=False),
)  # fmt: skip

pool = Directory(
    people=people, cycles=cycles, enrollments=candidates, conflicts=conflicts
).projection("candidate_pool")


# --- the service's own read models: proposals and pairs ----------------------------------------

proposals = sa.Table(
    "proposals", metadata,
    sa.Column("cycle_id", sa.String(36), primary_key=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("algorithm", sa.String(20), nullable=False),
    sa.Column("draft", sa.JSON, nullable=False),
    sa.Column("excluded", sa.JSON, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # draft | published
    sa.Column("settings", sa.JSON, nullable=False),
)  # fmt: skip
pairs = sa.Table(
    "pairs", metadata,
    sa.Column("pair_id", sa.String(36), primary_key=True),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("run_id", sa.String(36), nullable=False),
    sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # active | ended
    sa.Column("ended_reason", sa.Text, nullable=True),
    sa.Column("rematch_requested_by", sa.String(36), nullable=True),
    sa.Column("rematch_reason", sa.Text, nullable=True),
)  # fmt: skip

pairing_view = Projection("pairing_view", tables=[proposals, pairs])


def _proposal(conn: sa.Connection, cycle_id: str) -> sa.Row | None:
    return conn.execute(sa.select(proposals).where(proposals.c.cycle_id == cycle_id)).first()


@pairing_view.on("PairingRunRequested")
def _run(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    settings = {k: p[k] for k in ("seed", "min_level_gap", "weights", "candidates_per_mentee")}
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


@pairing_view.on("RematchRequested")
def _rematch(conn: sa.Connection, e: Envelope) -> None:
    p = e.payload
    conn.execute(
        pairs.update()
        .where(pairs.c.pair_id == p["pair_id"])
        .values(rematch_requested_by=p["person_id"], rematch_reason=p["reason"])
    )


requests = sa.Table(
    "requests", metadata,
    sa.Column("request_id", sa.String(36), primary_key=True),
    sa.Column("round_id", sa.String(36), nullable=False),
    sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
    sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("deadline", sa.String(40), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # pending | accepted | declined | expired
    sa.Column("reason", sa.Text, nullable=True),
)  # fmt: skip
pairing_view.tables = [*pairing_view.tables, requests]


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
