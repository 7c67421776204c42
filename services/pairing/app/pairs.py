"""Published pairs, groups and families: a coordinator ends one; a member asks for a rematch."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit import Metadata
from services.eventkit.db import one
from services.eventkit.unit_of_work import UnitOfWork

from ..readmodels import tables
from .cycle_pairing import load, save


def _cycle_of(uow: UnitOfWork, pair_id: str) -> str:
    """The cycle of a pair, or of a group or family (`pair_id` is then its id)."""
    found = uow.conn.execute(
        sa.select(tables.units.c.cycle_id).where(tables.units.c.unit_id == pair_id)
    ).scalar()
    return found or one(uow.conn, tables.pairs, "pair", pair_id=pair_id)["cycle_id"]


def end_pair(uow: UnitOfWork, pair_id: str, reason: str, meta: Metadata) -> str:
    """End an active pair with a reason; returns its cycle's id."""
    cycle, pairing = load(uow, _cycle_of(uow, pair_id))
    pairing.end_pair(pair_id, reason)
    save(uow, cycle, pairing, meta)
    return cycle["id"]


def request_rematch(
    uow: UnitOfWork, pair_id: str, person_id: str, reason: str, meta: Metadata
) -> str:
    """A member of the pair asks for a rematch; returns its cycle's id."""
    cycle, pairing = load(uow, _cycle_of(uow, pair_id))
    pairing.request_rematch(pair_id, person_id, reason)
    save(uow, cycle, pairing, meta)
    return cycle["id"]
