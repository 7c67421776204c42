"""Institutions, programs and cycles."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit import DomainError, NotFound
from services.eventkit.auth import ADMIN, ROLES
from services.eventkit.envelope import new_id
from services.eventkit.http import principal, request_meta, require, runtime

from .. import readmodels as rm
from ..domain import Institution, Program
from .access import require_staff, row
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
@blp.arguments(InstitutionIn)
@blp.response(201, InstitutionOut)
def add_institution(data):
    """Add an institution to the consortium (consortium admin)."""
    require([ADMIN])
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
@blp.response(200, InstitutionOut(many=True))
def list_institutions():
    """Institutions the caller belongs to (all of them for the consortium admin)."""
    visible = principal().institutions(ROLES)
    query = sa.select(rm.institutions).order_by(rm.institutions.c.name)
    if visible is not None:
        query = query.where(rm.institutions.c.id.in_(visible))
    with runtime().reading() as conn:
        return conn.execute(query).mappings().all()


@blp.route("/institutions/<institution_id>/programs", methods=["POST"])
@blp.arguments(ProgramIn)
@blp.response(201, ProgramOut)
def create_program(data, institution_id):
    require_staff(institution_id)
    rt = runtime()
    program = Program(new_id())
    with rt.engine.begin() as conn:
        row(conn, rm.institutions, institution_id, "institution")
        program.create(institution_id, **data)
        rt.save(conn, program, request_meta(institution_id))
        return row(conn, rm.programs, program.id, "program")


@blp.route("/institutions/<institution_id>/programs", methods=["GET"])
@blp.response(200, ProgramOut(many=True))
def list_programs(institution_id):
    require(ROLES, institution_id)
    with runtime().reading() as conn:
        return (
            conn.execute(
                sa.select(rm.programs)
                .where(rm.programs.c.institution_id == institution_id)
                .order_by(rm.programs.c.name)
            )
            .mappings()
            .all()
        )


@blp.route("/programs/<program_id>", methods=["GET"])
@blp.response(200, ProgramOut)
def get_program(program_id):
    with runtime().reading() as conn:
        program = row(conn, rm.programs, program_id, "program")
        require(ROLES, program["institution_id"])
        return program


def _load_program(conn: sa.Connection, program_id: str) -> Program:
    program = runtime().load(conn, Program, program_id)
    if not program.exists:
        raise NotFound("No such program.")
    return program


@blp.route("/programs/<program_id>/guidelines", methods=["PUT"])
@blp.arguments(GuidelinesIn)
@blp.response(200, ProgramOut)
def update_guidelines(data, program_id):
    """Publish new guidelines: participants are asked to accept the new version."""
    rt = runtime()
    with rt.engine.begin() as conn:
        program = _load_program(conn, program_id)
        require_staff(program.institution_id)
        program.update_guidelines(data["guidelines"])
        rt.save(conn, program, request_meta(program.institution_id))
        return row(conn, rm.programs, program_id, "program")


@blp.route("/programs/<program_id>/cycles", methods=["POST"])
@blp.arguments(CycleIn)
@blp.response(201, CycleOut)
def open_cycle(data, program_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        program = _load_program(conn, program_id)
        require_staff(program.institution_id)
        cycle_id = new_id()
        program.open_cycle(cycle_id, **data)
        rt.save(conn, program, request_meta(program.institution_id))
        return row(conn, rm.cycles, cycle_id, "cycle")


@blp.route("/programs/<program_id>/cycles", methods=["GET"])
@blp.response(200, CycleOut(many=True))
def list_cycles(program_id):
    with runtime().reading() as conn:
        program = row(conn, rm.programs, program_id, "program")
        require(ROLES, program["institution_id"])
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
@blp.response(200, CycleOut)
def get_cycle(cycle_id):
    with runtime().reading() as conn:
        cycle = row(conn, rm.cycles, cycle_id, "cycle")
        require(ROLES, cycle["institution_id"])
        return cycle


def _set_cycle_state(cycle_id: str, open_it: bool):
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle = row(conn, rm.cycles, cycle_id, "cycle")
        program = _load_program(conn, cycle["program_id"])
        require_staff(program.institution_id)
        if open_it:
            program.reopen_cycle(cycle_id)
        else:
            program.close_cycle(cycle_id)
        rt.save(conn, program, request_meta(program.institution_id))
        return row(conn, rm.cycles, cycle_id, "cycle")


@blp.route("/cycles/<cycle_id>/close", methods=["POST"])
@blp.response(200, CycleOut)
def close_cycle(cycle_id):
    """Close a cycle for enrollment."""
    return _set_cycle_state(cycle_id, open_it=False)


@blp.route("/cycles/<cycle_id>/reopen", methods=["POST"])
@blp.response(200, CycleOut)
def reopen_cycle(cycle_id):
    return _set_cycle_state(cycle_id, open_it=True)
