"""What the coordinator pages share: the programs and cycles of the user's institutions, and
refusals turned into the web's own pages.

Every page re-checks that the signed-in user is staff of the cycle's institution: the services
let any member of an institution read its cycles, but only its coordinators (and the consortium
admin) run them.
"""

from __future__ import annotations

import dataclasses

from flask import abort

from services.eventkit.auth import ADMIN, COORDINATOR

from ...calls import can, fetch, seg, staff_institutions
from ...client import Reply
from ...identity import roles_required

staff_only = roles_required(ADMIN, COORDINATOR)


@dataclasses.dataclass
class ProgramEntry:
    program: dict
    cycles: list[dict]


@dataclasses.dataclass
class InstitutionEntry:
    institution: dict
    programs: list[ProgramEntry]

    @property
    def can_create_program(self) -> bool:
        return can("program.create", self.institution["id"])


def catalog() -> list[InstitutionEntry]:
    entries = []
    for institution in staff_institutions():
        programs = [
            ProgramEntry(program, fetch("enrollment", f"/api/programs/{seg(program['id'])}/cycles"))
            for program in fetch(
                "enrollment", f"/api/institutions/{seg(institution['id'])}/programs"
            )
        ]
        entries.append(InstitutionEntry(institution, programs))
    return entries


def program_of(cycle: dict) -> dict:
    return fetch("enrollment", f"/api/programs/{seg(cycle['program_id'])}")


def refuse_if_forbidden(reply: Reply) -> None:
    if reply.status in (403, 404):
        abort(reply.status)
