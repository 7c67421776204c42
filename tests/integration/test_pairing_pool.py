"""Pairing's candidate pool follows every enrollment change, whatever order streams arrive in."""

import random

import pytest
import sqlalchemy as sa

from services.eventkit.migrations import upgrade
from services.eventkit.service import Runtime
from services.pairing import readmodels as pool
from services.pairing.service import SERVICE as PAIRING
from support import deliver


@pytest.fixture
def enrollment_events(client, admin, enrollment_app):
    """A small cycle built through the enrollment API, returned as the events it stored."""

    def post(url, body, status=201):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == status, response.json
        return response.json

    inst = post("/api/institutions", {"name": "N", "short_code": "N", "time_zone": "UTC"})
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "P", "program_type": "resident_peer_mentoring"},
    )
    cycle = post(
        f"/api/programs/{program['id']}/cycles",
        {"name": "2026-27", "pairing_format": "group", "group_size": 5},
    )
    people = {
        name: post(
            "/api/people",
            {
                "institution_id": inst["id"],
                "name": name,
                "email": f"{name}@x.org",
                "training_level": level,
            },
        )
        for name, level in (("mentor", "PGY5"), ("mentee", "PGY1"), ("boss", "faculty"))
    }
    mentor = post(
        f"/api/cycles/{cycle['id']}/enrollments",
        {"person_id": people["mentor"]["id"], "role": "mentor", "capacity": 5},
    )
    mentee = post(
        f"/api/cycles/{cycle['id']}/enrollments",
        {"person_id": people["mentee"]["id"], "role": "mentee", "interests": ["trauma"]},
    )
    client.patch(
        f"/api/enrollments/{mentee['id']}",
        json={"languages": ["Spanish"], "meeting_mode": "virtual"},
        headers=admin,
    )
    client.put(
        f"/api/enrollments/{mentee['id']}/ranking",
        json={"mentor_enrollment_ids": [mentor["id"]]},
        headers=admin,
    )
    client.post(
        f"/api/enrollments/{mentee['id']}/conflicts",
        json={"other_person_id": people["boss"]["id"], "kind": "supervisor"},
        headers=admin,
    )
    client.post(
        f"/api/enrollments/{mentor['id']}/withdraw", json={"reason": "leave"}, headers=admin
    )
    client.patch(
        f"/api/people/{people['mentor']['id']}", json={"training_level": "PGY6"}, headers=admin
    )
    rt = enrollment_app.extensions["tandem"]
    with rt.reading() as conn:
        events = [e for _, e in rt.store.read_all(conn)]
    return events, cycle, mentor, mentee, people


def _interleave(events, seed):
    """A random delivery order that keeps each stream's own order (one Kafka partition per key)."""
    streams: dict[str, list] = {}
    for e in events:
        streams.setdefault(e.stream_id, []).append(e)
    rng, out = random.Random(seed), []
    while streams:
        key = rng.choice(sorted(streams))
        out.append(streams[key].pop(0))
        if not streams[key]:
            del streams[key]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pool_reflects_every_change_in_any_cross_stream_order(
    request, database_url, enrollment_events, tmp_path, seed
):
    events, _cycle, mentor, mentee, people = enrollment_events
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'pairing.db'}"
    else:
        url = request.getfixturevalue("pg_database_factory")("pairing")
    upgrade(PAIRING.migrations, url)
    rt = Runtime(PAIRING, url)
    ordered = _interleave(events, seed)
    deliver(PAIRING, rt, ordered)
    deliver(PAIRING, rt, ordered[: len(ordered) // 2])  # redelivered: changes nothing
    with rt.reading() as conn:
        rows = {r.enrollment_id: r for r in conn.execute(sa.select(pool.candidates))}
        cycle_row = conn.execute(sa.select(pool.cycles)).one()
        conflict = conn.execute(sa.select(pool.conflicts)).one()
        mentor_person = conn.execute(
            sa.select(pool.people).where(pool.people.c.id == people["mentor"]["id"])
        ).one()
    assert rows[mentor["id"]].status == "withdrawn"
    assert (
        rows[mentee["id"]].languages == ["Spanish"] and rows[mentee["id"]].meeting_mode == "virtual"
    )
    assert rows[mentee["id"]].ranking == [mentor["id"]]
    assert (cycle_row.pairing_format, cycle_row.group_size) == ("group", 5)
    assert (conflict.other_person_id, conflict.kind) == (people["boss"]["id"], "supervisor")
    assert mentor_person.training_level == "PGY6"
    rt.engine.dispose()
