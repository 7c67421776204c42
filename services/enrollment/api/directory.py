"""Institutions, programs and cycles."""

from __future__ import annotations

import sqlalchemy as sa
from flask_smorest import Blueprint

from services.eventkit.access import consortium, guard, visible
from services.eventkit.http import request_meta, runtime
from services.eventkit.policy import Resource
from services.eventkit.unit_of_work import UnitOfWork

from .. import readmodels as rm
from ..app import directory
from .access import cycle, institution, program, row
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
    with rt.engine.begin() as conn:
        institution_id = directory.add_institution(
            UnitOfWork(conn, rt.store), data, request_meta(None)
        )
        return row(conn, rm.institutions, institution_id, "institution")


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
@guard("program.create", institution)
@blp.arguments(ProgramIn)
@blp.response(201, ProgramOut)
def create_program(data, institution_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        program_id = directory.create_program(
            UnitOfWork(conn, rt.store), institution_id, data, request_meta(None)
        )
        return row(conn, rm.programs, program_id, "program")


@blp.route("/institutions/<institution_id>/programs", methods=["GET"])
@guard("institution.read", institution, rows="program.read")
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
@guard("program.read", program)
@blp.response(200, ProgramOut)
def get_program(program_id):
    with runtime().reading() as conn:
        return row(conn, rm.programs, program_id, "program")


@blp.route("/programs/<program_id>/guidelines", methods=["PUT"])
@guard("program.update", program)
@blp.arguments(GuidelinesIn)
@blp.response(200, ProgramOut)
def update_guidelines(data, program_id):
    """Publish new guidelines: participants are asked to accept the new version."""
    rt = runtime()
    with rt.engine.begin() as conn:
        directory.update_guidelines(
            UnitOfWork(conn, rt.store), program_id, data["guidelines"], request_meta(None)
        )
        return row(conn, rm.programs, program_id, "program")


@blp.route("/programs/<program_id>/cycles", methods=["POST"])
@guard("cycle.create", program)
@blp.arguments(CycleIn)
@blp.response(201, CycleOut)
def open_cycle(data, program_id):
    rt = runtime()
    with rt.engine.begin() as conn:
        cycle_id = directory.open_cycle(
            UnitOfWork(conn, rt.store), program_id, data, request_meta(None)
        )
        return row(conn, rm.cycles, cycle_id, "cycle")


@blp.route("/programs/<program_id>/cycles", methods=["GET"])
@guard("program.read", program)
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
@guard("cycle.read", cycle)
@blp.response(200, CycleOut)
def get_cycle(cycle_id):
    with runtime().reading() as conn:
        return row(conn, rm.cycles, cycle_id, "cycle")


def _set_cycle_open(cycle_id: str, open_it: bool):
    rt = runtime()
    with rt.engine.begin() as conn:
        directory.set_cycle_open(UnitOfWork(conn, rt.store), cycle_id, open_it, request_meta(None))
        return row(conn, rm.cycles, cycle_id, "cycle")


@blp.route("/cycles/<cycle_id>/close", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.response(200, CycleOut)
def close_cycle(cycle_id):
    """Close a cycle for enrollment."""
    return _set_cycle_open(cycle_id, open_it=False)


@blp.route("/cycles/<cycle_id>/reopen", methods=["POST"])
@guard("cycle.manage", cycle)
@blp.response(200, CycleOut)
def reopen_cycle(cycle_id):
    return _set_cycle_open(cycle_id, open_it=True)
