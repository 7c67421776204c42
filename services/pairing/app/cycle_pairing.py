"""A cycle and its pairing, loaded and saved on a unit of work."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from services.eventkit import Metadata
from services.eventkit.unit_of_work import UnitOfWork

from ..domain.cycle_pairing import CyclePairing
from ..readmodels import views


def load(uow: UnitOfWork, cycle_id: str) -> tuple[sa.RowMapping, CyclePairing]:
    """The cycle as enrollment's events described it (404 if they have not arrived) and its
    pairing."""
    cycle = views.cycle(uow.conn, cycle_id)
    return cycle, uow.load(CyclePairing, cycle_id)


def save(uow: UnitOfWork, cycle: sa.RowMapping, pairing: CyclePairing, meta: Metadata) -> None:
    """The pairing's new events, recorded in the cycle's institution."""
    uow.save(pairing, dataclasses.replace(meta, institution_id=cycle["institution_id"]))
