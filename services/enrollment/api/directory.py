"""Institutions, programs and cycles."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import DomainError, NotFound
from services.eventkit.access import consortium, guard, visible
from services.eventkit.envelope import new_id
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Resource

from .. import readmodels as rm
from ..domain import Institution, Program
from . import access
from .access import row
from .schemas import (
    CycleIn,
    CycleOut,
    GuidelinesIn,
    InstitutionIn,
    InstitutionOut,
    ProgramIn,
    ProgramOut,
)

blp = Blueprint(
    "directory", __name__, url_prefix="/api", description="Institutions, programs, cycles"
)


@blp.route("/institutions", methods=["POST"])
@guard("institution.create", consortium)
@blp.arguments(InstitutionIn)
@blp.response(201, InstitutionOut)
def add_institution(data):
    """Add an institution to the consortium (consortium admin)."""
    rt = runtime()
    institution = Institution(new_id())
    with rt.engine.begin() as conn:
        code = data["short_code"].strip().upper()
        if conn.execute(
            sa.select(rm.institutions.c.id).where(rm.institutions.c.short_code == code)
        ).first():
            raise DomainError("Another institution uses this short code.", "short_code")
        institution.add(**data)
        rt.save(conn, institution, request_meta(institution.id))
        return row(conn, rm.institutions, institution.id, "institution")


@blp.route("/institutions", methods=["GET"])
@guard("own.read", rows="institution.read")
@blp.response(200, InstitutionOut(many=True))
def list_institutions():
    """Institutions the caller belongs to (all of them for the consortium admin)."""
    query = sa.select(rm.institutions).order_by(rm.institutions.c.name)
    with runtime().reading() as conn:
        found = conn.execute(query).mappings().all()
    return visible("institution.read", found, lambda r: Resource(r["id"]))


@blp.route("/institutions/<institution_id>/programs", methods=["POST"])
@guard("program.create", access.institution)
@blp.arguments(ProgramIn)
@blp.response(201, ProgramOut)
def create_program(data, institution_id):
    rt = runtime()
    program = Program(new_id())
    with rt.engine.begin() as conn:
        program.create(institution_id, **data)
        rt.save(conn, program, request_meta(institution_id))
        return row(conn, rm.programs, program.id, "program")


@blp.route("/institutions/<institution_id>/programs", methods=["GET"])
@guard("institution.read", access.institution, rows="program.read")
@blp.response(200, ProgramOut(many=True))
def list_programs(institution_id):
    with runtime().reading() as conn:
        found = (
            conn.execute(
                sa.select(rm.programs)
                .where(rm.programs.c.institution_id == institution_id)
                .order_by(rm.programs.c.name)
            )
            .mappings()
            .all()
        )
    return visible("program.read", found, lambda r: Resource(r["institution_id"], r["id"]))


@blp.route("/programs/<program_id>", methods=["GET"])
@guard("program.read", access.program)
@blp.response(200, ProgramOut)
def get_program(program_id):
    with runtime().reading() as conn:
        return row(conn, rm.programs, program_id, "program")


def _load_program(conn: sa.Connection, program_id: str) -> Program:
    program = runtime().load(conn, Program, program_id)
    if not program.exists:
        raise NotFound("No such program.")
    return program


@blp.route("/programs/<program_id>/guidelines", methods=["PUT"])
@guard("program.update", access.program)
@blp.arguments(GuidelinesIn)
@blp.response(200, ProgramOut)
def update_guidelines(data, program_id):
    """Publish new guidelines: participants are asked to accept the new version."""
    rt = runtime()
    with rt.engine.begin() as conn:
        program = _load_program(conn, program_id)
        program.update_guidelines(data["guidelines"])
        rt.save(conn, program, request_meta(program.institution_id))
        return row(conn, rm.programs, program_id, "program")


@blp.route("/programs/<program_id>/cycles", methods=["POST"])
@guard("cycle.create", access.program)
@blp.arguments(CycleIn)
@blp.response(201, CycleOut)
def open_cycle(data, program_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        program = _load_program(conn, program_id)
        cycle_id = new_id()
        program.open_cycle(cycle_id, **data)
        rt.save(conn, program, request_meta(program.institution_id))
        return row(conn, rm.cycles, cycle_id, "cycle")


@blp.route("/programs/<program_id>/cycles", methods=["GET"])
@guard("program.read", access.program)
@blp.response(200, CycleOut(many=True))
def list_cycles(program_id):
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(rm.cycles)
                .where(rm.cycles.c.program_id == program_id)
                .order_by(rm.cycles.c.name)
            )
            .mappings()
            .all()
        )


@blp.route("/cycles/<cycle_id>", methods=["GET"])
@guard("cycle.read", access.cycle)
@blp.response(200, CycleOut)
def get_cycle(cycle_id):
    with runtime().reading() as conn:
        return row(conn, rm.cycles, cycle_id, "cycle")


def _set_cycle_state(cycle_id: str, open_it: bool):
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = row(conn, rm.cycles, cycle_id, "cycle")
        program = _load_program(conn, cycle["program_id"])
        if open_it:
            program.reopen_cycle(cycle_id)
        else:
            program.close_cycle(cycle_id)
        rt.save(conn, program, request_meta(program.institution_id))
        return row(conn, rm.cycles, cycle_id, "cycle")


@blp.route("/cycles/<cycle_id>/close", methods=["POST"])
@guard("cycle.manage", access.cycle)
@blp.response(200, CycleOut)
def close_cycle(cycle_id):
    """Close a cycle for enrollment."""
    return _set_cycle_state(cycle_id, open_it=False)


@blp.route("/cycles/<cycle_id>/reopen", methods=["POST"])
@guard("cycle.manage", access.cycle)
@blp.response(200, CycleOut)
def reopen_cycle(cycle_id):
    return _set_cycle_state(cycle_id, open_it=True)
