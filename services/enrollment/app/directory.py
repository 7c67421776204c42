"""Institutions, programs and their cycles."""

from __future__ import annotations

import dataclasses
from typing import Any

from services.eventkit import DomainError, Metadata, NotFound
from services.eventkit.db import one
from services.eventkit.envelope import new_id
from services.eventkit.unit_of_work import UnitOfWork

from ..domain.directory import Institution, Program
from ..readmodels import lookups
from ..readmodels.tables import cycles


def _in(meta: Metadata, institution_id: str) -> Metadata:
    return dataclasses.replace(meta, institution_id=institution_id)


def add_institution(uow: UnitOfWork, fields: dict[str, Any], meta: Metadata) -> str:
    """Add an institution (its short code unique in the consortium); returns its id."""
    institution = Institution(new_id())
    if lookups.short_code_taken(uow.conn, fields["short_code"]):
        raise DomainError("Another institution uses this short code.", "short_code")
    institution.add(**fields)
    uow.save(institution, _in(meta, institution.id))
    return institution.id


def create_program(
    uow: UnitOfWork, institution_id: str, fields: dict[str, Any], meta: Metadata
) -> str:
    program = Program(new_id())
    program.create(institution_id, **fields)
    uow.save(program, _in(meta, institution_id))
    return program.id


def _program(uow: UnitOfWork, program_id: str) -> Program:
    program = uow.load(Program, program_id)
    if not program.exists:
        raise NotFound("No such program.")
    return program


def update_guidelines(uow: UnitOfWork, program_id: str, guidelines: str, meta: Metadata) -> None:
    """New guidelines: participants are asked to accept the new version."""
    program = _program(uow, program_id)
    program.update_guidelines(guidelines)
    uow.save(program, _in(meta, program.institution_id))


def open_cycle(uow: UnitOfWork, program_id: str, fields: dict[str, Any], meta: Metadata) -> str:
    program = _program(uow, program_id)
    cycle_id = new_id()
    program.open_cycle(cycle_id, **fields)
    uow.save(program, _in(meta, program.institution_id))
    return cycle_id


def set_cycle_open(uow: UnitOfWork, cycle_id: str, open_it: bool, meta: Metadata) -> None:
    """Close a cycle for enrollment, or reopen it."""
    cycle = one(uow.conn, cycles, "cycle", id=cycle_id)
    program = _program(uow, cycle["program_id"])
    if open_it:
        program.reopen_cycle(cycle_id)
    else:
        program.close_cycle(cycle_id)
    uow.save(program, _in(meta, program.institution_id))
