"""The proposal's names are read through the cycle's candidates, and anyone else by id."""

from __future__ import annotations

import sqlalchemy as sa

from services.eventkit.migrations import upgrade
from services.pairing import readmodels as rm
from services.pairing.readmodels import views
from services.pairing.service import SERVICE


def _person(person_id: str, name: str) -> dict:
    return {"id": person_id, "institution_id": "inst-1", "name": name,
            "training_level": "PGY1", "specialty": "General Surgery"}  # fmt: skip


def _candidate(enrollment_id: str, cycle_id: str, person_id: str) -> dict:
    return {"enrollment_id": enrollment_id, "cycle_id": cycle_id, "institution_id": "inst-1",
            "person_id": person_id, "role": "mentee", "interests": []}  # fmt: skip


def test_names_come_from_the_cycle_and_from_outside_it(database_url):
    upgrade(SERVICE.migrations, database_url)
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(rm.people.insert(), [
                _person("p-in", "Ada In"), _person("p-other", "Bo Other"),
                _person("p-none", "Cy Nowhere"), _person("p-unasked", "Di Unasked"),
            ])  # fmt: skip
            conn.execute(rm.candidates.insert(), [
                _candidate("e-1", "cycle-1", "p-in"), _candidate("e-2", "cycle-2", "p-other"),
                _candidate("e-3", "cycle-1", "p-unasked"),
            ])  # fmt: skip
            named = views.cycle_names(conn, "cycle-1", {"p-in", "p-other", "p-none", "p-gone"})
        # Only the ids asked for; someone without a person row has no name.
        assert named == {"p-in": "Ada In", "p-other": "Bo Other", "p-none": "Cy Nowhere"}
    finally:
        engine.dispose()
