"""Pairing through HTTP on SQLite and PostgreSQL: run, review with reasons, edit, re-run around
pins, publish, end and rematch — from a pool projected from real enrollment events."""

import datetime as dt

import pytest
import sqlalchemy as sa

from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant
from services.eventkit.envelope import utcnow
from services.eventkit.migrations import upgrade
from services.eventkit.operations import rebuild_own
from services.eventkit.unit_of_work import UnitOfWork
from services.pairing.app import create_app as create_pairing_app
from services.pairing.deadlines import RequestDeadlines
from services.pairing.domain.cycle_pairing import CyclePairing
from services.pairing.engine import Mentee, Mentor, Rules, level_rank, violations
from services.pairing.readmodels.candidate_pool import load_pool
from services.pairing.service import SERVICE as PAIRING
from support import auth_headers, deliver


@pytest.fixture
def cycle(client, admin, enrollment_app, request, database_url, tmp_path):
    """A cycle of 6 mentees and 3 mentors (capacity 2), projected into a pairing database."""

    def post(url, body):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    inst = post("/api/institutions", {"name": "N", "short_code": "N", "time_zone": "UTC"})
    other = post("/api/institutions", {"name": "O", "short_code": "O", "time_zone": "UTC"})
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "P", "program_type": "resident_peer_mentoring"},
    )
    cycle = post(f"/api/programs/{program['id']}/cycles", {"name": "2026-27"})
    people, enrollments = {}, {}
    for n in range(3):
        person = post(
            "/api/people",
            {
                "institution_id": inst["id"],
                "name": f"Mentor {n}",
                "email": f"m{n}@x.org",
                "training_level": "PGY5",
            },
        )
        people[f"mentor{n}"] = person
        enrollments[f"mentor{n}"] = post(
            f"/api/cycles/{cycle['id']}/enrollments",
            {
                "person_id": person["id"],
                "role": "mentor",
                "capacity": 2,
                "interests": ["trauma" if n == 0 else "research"],
            },
        )
    for n in range(6):
        person = post(
            "/api/people",
            {
                "institution_id": inst["id"],
                "name": f"Intern {n}",
                "email": f"i{n}@x.org",
                "training_level": "PGY1",
            },
        )
        people[f"intern{n}"] = person
        enrollments[f"intern{n}"] = post(
            f"/api/cycles/{cycle['id']}/enrollments",
            {"person_id": person["id"], "role": "mentee", "interests": ["trauma"]},
        )
    # Intern 0 ranks mentor 1 first; intern 1 declares mentor 0 their supervisor.
    client.put(
        f"/api/enrollments/{enrollments['intern0']['id']}/ranking",
        json={"mentor_enrollment_ids": [enrollments["mentor1"]["id"]]},
        headers=admin,
    )
    client.post(
        f"/api/enrollments/{enrollments['intern1']['id']}/conflicts",
        json={"other_person_id": people["mentor0"]["id"], "kind": "supervisor"},
        headers=admin,
    )

    url = (
        f"sqlite:///{tmp_path / 'pairing.db'}"
        if database_url.startswith("sqlite")
        else request.getfixturevalue("pg_database_factory")("pairing")
    )
    upgrade(PAIRING.migrations, url)
    app = create_pairing_app(url)
    rt = app.extensions["tandem"]
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        events = [e for _, e in source.store.read_all(conn)]
    deliver(PAIRING, rt, events)
    yield {
        "id": cycle["id"], "people": people, "app": app, "client": app.test_client(),
        "coordinator": auth_headers(Grant(COORDINATOR, inst["id"]), user="coord"),
        "outsider": auth_headers(Grant(COORDINATOR, other["id"]), user="coord-other"),
        "intern2": auth_headers(Grant(MENTEE, inst["id"], program["id"]), user=people["intern2"]["id"]),
        "institution_id": inst["id"], "program_id": program["id"],
    }  # fmt: skip
    rt.engine.dispose()


def _events(cycle) -> list[str]:
    rt = cycle["app"].extensions["tandem"]
    with rt.reading() as conn:
        return [e.event_type for _, e in rt.store.read_all(conn)]


def _loaded_and_replayed(cycle) -> tuple[CyclePairing, CyclePairing]:
    """The cycle's pairing as commands load it (its snapshot and the events after it), and as
    a replay of its whole stream gives it."""
    rt = cycle["app"].extensions["tandem"]
    with rt.reading() as conn:
        loaded = UnitOfWork(conn, rt.store).load(CyclePairing, cycle["id"])
        stream = rt.store.load(conn, CyclePairing.stream_id_for(cycle["id"]))
    return loaded, CyclePairing.rehydrate(cycle["id"], stream)


def _snapshot(cycle):
    rt = cycle["app"].extensions["tandem"]
    with rt.reading() as conn:
        stream_id = CyclePairing.stream_id_for(cycle["id"])
        return rt.store.snapshot(conn, stream_id, CyclePairing.snapshot_kind())


def _loads_agree(cycle) -> int:
    """Asserts a snapshot was used and gave the state a replay gives; its version."""
    loaded, replayed = _loaded_and_replayed(cycle)
    assert vars(loaded) == vars(replayed)
    found = _snapshot(cycle)
    assert found is not None and found.version <= loaded.version
    return found.version


def _hard_rules_hold(cycle, proposal):
    rt = cycle["app"].extensions["tandem"]
    with rt.reading() as conn:
        mentees, mentors = load_pool(conn, cycle["id"])
    by_mentee, by_mentor = {m.id: m for m in mentees}, {m.id: m for m in mentors}
    for pair in proposal["pairs"]:
        assert violations(by_mentee[pair["mentee_id"]], by_mentor[pair["mentor_id"]], Rules()) == []
    load: dict[str, int] = {}
    for pair in proposal["pairs"]:
        load[pair["mentor_id"]] = load.get(pair["mentor_id"], 0) + 1
    assert all(load[m] <= by_mentor[m].capacity for m in load)


@pytest.mark.parametrize("algorithm", ["stable", "optimal", "random"])
def test_runs_respect_hard_rules_and_explain_scores(cycle, algorithm):
    client, people = cycle["client"], cycle["people"]
    response = client.post(
        f"/api/cycles/{cycle['id']}/runs",
        json={"algorithm": algorithm, "seed": 7},
        headers=cycle["coordinator"],
    )
    assert response.status_code == 201, response.json
    proposal = response.json
    mentees = {people[f"intern{n}"]["id"] for n in range(6)}
    paired = {p["mentee_id"] for p in proposal["pairs"]}
    unmatched = {u["person_id"]: u["reason"] for u in proposal["unmatched"]}
    assert paired | (set(unmatched) & mentees) == mentees and all(unmatched.values())
    if algorithm != "random":  # a random draw may strand someone; the others pair everyone here
        assert paired == mentees
    _hard_rules_hold(cycle, proposal)
    pair_of = {p["mentee_id"]: p for p in proposal["pairs"]}
    conflicted = pair_of.get(people["intern1"]["id"])
    assert (
        conflicted is None or conflicted["mentor_id"] != people["mentor0"]["id"]
    )  # declared conflict
    assert all(
        set(p["breakdown"]) >= {"specialty_interests", "ranked_interest"} for p in proposal["pairs"]
    )
    if algorithm == "stable":
        assert proposal["blocking_pairs"] == 0
        assert (
            pair_of[people["intern0"]["id"]]["mentor_id"] == people["mentor1"]["id"]
        )  # ranked first


def test_review_edit_pin_rerun_publish_end_and_rematch(cycle):
    client, people, coord = cycle["client"], cycle["people"], cycle["coordinator"]
    base = f"/api/cycles/{cycle['id']}"
    proposal = client.post(f"{base}/runs", json={"algorithm": "stable"}, headers=coord).json
    pair_of = {p["mentee_id"]: p["mentor_id"] for p in proposal["pairs"]}
    intern1, intern2 = people["intern1"]["id"], people["intern2"]["id"]

    # A move that breaks a hard rule is refused, naming the field, and writes nothing.
    before = _events(cycle)
    refused = client.post(
        f"{base}/proposal/edits",
        json={
            "action": "move",
            "person_id": intern1,
            "mentor_id": people["mentor0"]["id"],
            "reason": "asked",
        },
        headers=coord,
    )
    assert refused.status_code == 422 and "mentor_id" in refused.json["errors"]["json"]
    no_reason = client.post(
        f"{base}/proposal/edits",
        json={"action": "pin", "person_id": intern2, "reason": ""},
        headers=coord,
    )
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]["json"]
    assert _events(cycle) == before

    # Swap two mentees whose swap is allowed, then pin one pair and exclude a mentee.
    others = [m for m in pair_of if m not in (intern1,) and pair_of[m] != pair_of[intern2]]
    swap_with = next(
        m
        for m in others
        if pair_of[m] != people["mentor0"]["id"] or pair_of[intern2] != people["mentor0"]["id"]
    )
    swapped = client.post(
        f"{base}/proposal/edits",
        json={
            "action": "swap",
            "person_id": intern2,
            "other_mentee_id": swap_with,
            "reason": "shared research",
        },
        headers=coord,
    )
    assert swapped.status_code == 200, swapped.json
    after = {p["mentee_id"]: p["mentor_id"] for p in swapped.json["pairs"]}
    assert after[intern2] == pair_of[swap_with] and after[swap_with] == pair_of[intern2]
    pinned = client.post(
        f"{base}/proposal/edits",
        json={"action": "pin", "person_id": intern2, "reason": "keep"},
        headers=coord,
    ).json
    assert next(p for p in pinned["pairs"] if p["mentee_id"] == intern2)["pinned"] is True
    excluded_id = people["intern5"]["id"]
    excluded = client.post(
        f"{base}/proposal/edits",
        json={"action": "exclude", "person_id": excluded_id, "reason": "on leave"},
        headers=coord,
    ).json
    assert excluded_id in {u["person_id"] for u in excluded["unmatched"]}
    # Edits are replayed on top of the snapshot the run left.
    assert _loads_agree(cycle) < len(_events_of_cycle(cycle))

    # Re-running keeps the pin and leaves the excluded mentee out.
    rerun = client.post(f"{base}/runs", json={"algorithm": "optimal"}, headers=coord).json
    rerun_pairs = {p["mentee_id"]: p for p in rerun["pairs"]}
    assert rerun_pairs[intern2]["mentor_id"] == after[intern2] and rerun_pairs[intern2]["pinned"]
    assert excluded_id not in rerun_pairs
    _hard_rules_hold(cycle, rerun)

    published = client.post(f"{base}/proposal/publish", headers=coord)
    assert published.status_code == 200 and len(published.json) == 5
    assert (
        client.post(f"{base}/proposal/publish", headers=coord).status_code == 422
    )  # no draft left
    assert _events(cycle).count("PairCreated") == 5

    # A member asks for a rematch; the coordinator ends the pair; a rematch run touches only them.
    mine = client.get(f"{base}/pairs", headers=cycle["intern2"]).json
    assert len(mine) == 1 and mine[0]["mentee_id"] == intern2
    pair_id = mine[0]["pair_id"]
    asked = client.post(
        f"/api/pairs/{pair_id}/rematch-request",
        json={"reason": "schedules clash"},
        headers=cycle["intern2"],
    )
    assert asked.status_code == 200 and asked.json["rematch_requested_by"] == intern2
    # The coordinators read who asked and why; the other member of the pair does not.
    listed = {p["pair_id"]: p for p in client.get(f"{base}/pairs", headers=coord).json}
    assert listed[pair_id]["rematch_reason"] == "schedules clash"
    mentor = listed[pair_id]["mentor_id"]
    grant = Grant(MENTOR, cycle["institution_id"], cycle["program_id"])
    as_mentor = auth_headers(grant, user=mentor)
    theirs = client.get(f"{base}/pairs", headers=as_mentor).json
    mine_again = next(p for p in theirs if p["pair_id"] == pair_id)
    assert mine_again["rematch_requested_by"] is None and mine_again["rematch_reason"] is None
    assert client.get(f"{base}/pairs", headers=cycle["intern2"]).json[0]["rematch_reason"] == (
        "schedules clash"
    )
    ended = client.post(
        f"/api/pairs/{pair_id}/end", json={"reason": "rematch requested"}, headers=coord
    )
    assert ended.json["status"] == "ended"
    rematch = client.post(f"{base}/runs", json={"algorithm": "stable"}, headers=coord).json
    active = {p["mentee_id"]: p["mentor_id"] for p in published.json if p["mentee_id"] != intern2}
    kept = {p["mentee_id"]: p["mentor_id"] for p in rematch["pairs"] if p["pinned"]}
    assert kept == active  # nobody else was disturbed
    client.post(f"{base}/proposal/publish", headers=coord)
    pairs = client.get(f"{base}/pairs", headers=coord).json
    assert (
        sum(p["status"] == "active" for p in pairs) == 5
        and sum(p["status"] == "ended" for p in pairs) == 1
    )
    assert _loads_agree(cycle) == len(_events_of_cycle(cycle))  # taken when it was published


def _events_of_cycle(cycle) -> list[str]:
    stream_id = CyclePairing.stream_id_for(cycle["id"])
    rt = cycle["app"].extensions["tandem"]
    with rt.reading() as conn:
        return [e.event_type for e in rt.store.load(conn, stream_id)]


def test_a_snapshot_is_a_cache_never_trusted_over_the_events(cycle):
    client, coord = cycle["client"], cycle["coordinator"]
    base = f"/api/cycles/{cycle['id']}"
    first = client.post(f"{base}/runs", json={"algorithm": "stable"}, headers=coord).json
    assert _loads_agree(cycle) == 2  # PairingRunRequested, ProposalGenerated
    rt = cycle["app"].extensions["tandem"]
    snapshots = rt.service.tables.snapshots
    stream_id = CyclePairing.stream_id_for(cycle["id"])

    def change(**values) -> None:
        with rt.engine.begin() as conn:
            conn.execute(
                snapshots.update().where(snapshots.c.stream_id == stream_id).values(**values)
            )

    # A snapshot whose event is no longer the one stored at its version is ignored.
    forged = {"draft": None, "excluded": [], "pairs": {}, "units": {}, "round": None,
              "requests": {}, "level_rules": None, "runs": 0}  # fmt: skip
    change(state=forged, event_hash="0" * 64)
    assert _snapshot(cycle) is None
    loaded, replayed = _loaded_and_replayed(cycle)
    assert vars(loaded) == vars(replayed) and loaded.draft["run_id"] == first["run_id"]
    # So is one of a state the aggregate no longer has (an attribute added since, say).
    with rt.reading() as conn:
        hash_at_2 = rt.store.load(conn, stream_id)[1].hash
    change(state={"runs": 1}, event_hash=hash_at_2)
    assert _snapshot(cycle) is not None
    loaded, replayed = _loaded_and_replayed(cycle)
    assert vars(loaded) == vars(replayed)
    # The next run replaces it with a good one.
    client.post(f"{base}/runs", json={"algorithm": "optimal"}, headers=coord)
    assert _loads_agree(cycle) == 4


def test_stores_of_personal_fields_take_no_snapshots(cycle, enrollment_app):
    rt = enrollment_app.extensions["tandem"]
    with rt.reading() as conn, pytest.raises(ValueError, match="personal fields"):
        event = next(e for _, e in rt.store.read_all(conn))
        rt.store.take_snapshot(conn, event, "Person/1", {})


def test_the_tenant_rule_and_participant_privacy(cycle):
    client, outsider = cycle["client"], cycle["outsider"]
    base = f"/api/cycles/{cycle['id']}"
    for method, url in [
        ("post", f"{base}/runs"),
        ("get", f"{base}/proposal"),
        ("get", f"{base}/candidates"),
        ("get", f"{base}/pairs"),
    ]:
        response = (
            getattr(client, method)(url, json={"algorithm": "stable"}, headers=outsider)
            if method == "post"
            else client.get(url, headers=outsider)
        )
        assert response.status_code == 403, url
    assert (
        client.post(
            f"{base}/runs", json={"algorithm": "stable"}, headers=cycle["intern2"]
        ).status_code
        == 403
    )
    bad = client.post(f"{base}/runs", json={"algorithm": "telepathy"}, headers=cycle["coordinator"])
    assert bad.status_code == 422 and "algorithm" in bad.json["errors"]["json"]


def test_engine_inputs_come_from_the_pool(cycle):
    rt = cycle["app"].extensions["tandem"]
    with rt.reading() as conn:
        mentees, mentors = load_pool(conn, cycle["id"])
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(PAIRING.tables.inbox)).scalar_one()
            > 0
        )
    assert len(mentees) == 6 and len(mentors) == 3
    assert all(isinstance(m, Mentee) and m.level_rank == level_rank("PGY1") for m in mentees)
    assert all(isinstance(m, Mentor) and m.capacity == 2 for m in mentors)
    intern1 = next(m for m in mentees if m.id == cycle["people"]["intern1"]["id"])
    assert intern1.conflicts == {cycle["people"]["mentor0"]["id"]}


def test_group_coaching_cycles_form_balanced_groups(client, admin, enrollment_app, tmp_path):
    """Final-year students in groups of up to 3 per junior-resident coach."""

    def post(url, body):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    inst = post("/api/institutions", {"name": "L", "short_code": "L", "time_zone": "UTC"})
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "Coaching", "program_type": "student_career_coaching"},
    )
    cycle = post(
        f"/api/programs/{program['id']}/cycles",
        {"name": "2026-27", "pairing_format": "group", "group_size": 3},
    )
    coaches = []
    for n in range(2):
        person = post(
            "/api/people",
            {
                "institution_id": inst["id"],
                "name": f"Coach {n}",
                "email": f"c{n}@x.org",
                "training_level": "PGY2",
            },
        )
        post(
            f"/api/cycles/{cycle['id']}/enrollments",
            {"person_id": person["id"], "role": "mentor", "capacity": 3},
        )
        coaches.append(person["id"])
    for n in range(5):
        person = post(
            "/api/people",
            {
                "institution_id": inst["id"],
                "name": f"Student {n}",
                "email": f"s{n}@x.org",
                "training_level": "MS4",
            },
        )
        post(
            f"/api/cycles/{cycle['id']}/enrollments", {"person_id": person["id"], "role": "mentee"}
        )
    url = f"sqlite:///{tmp_path / 'pairing-groups.db'}"
    upgrade(PAIRING.migrations, url)
    app = create_pairing_app(url)
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        deliver(PAIRING, app.extensions["tandem"], [e for _, e in source.store.read_all(conn)])
    pairing = app.test_client()
    coordinator = auth_headers(Grant(COORDINATOR, inst["id"]), user="coord")
    wrong = pairing.post(
        f"/api/cycles/{cycle['id']}/runs", json={"algorithm": "stable"}, headers=coordinator
    )
    assert wrong.status_code == 422 and "algorithm" in wrong.json["errors"]["json"]
    proposal = pairing.post(
        f"/api/cycles/{cycle['id']}/runs", json={"algorithm": "groups"}, headers=coordinator
    ).json
    sizes = sorted(sum(p["mentor_id"] == c for p in proposal["pairs"]) for c in coaches)
    assert sizes == [2, 3]  # all five placed, groups as even as capacity allows
    assert (
        pairing.post(f"/api/cycles/{cycle['id']}/proposal/publish", headers=coordinator).status_code
        == 200
    )
    rt = app.extensions["tandem"]
    with rt.reading() as conn:
        formed = [e.payload for _, e in rt.store.read_all(conn) if e.event_type == "GroupFormed"]
    assert sorted(len(g["member_ids"]) for g in formed) == [2, 3]
    assert {g["coach_id"] for g in formed} == set(coaches)
    with rt.reading() as conn:  # a group cycle publishes groups, never its members as pairs
        assert not [e for _, e in rt.store.read_all(conn) if e.event_type == "PairCreated"]
    rt.engine.dispose()


def test_mentee_choice_walks_down_rankings(client, admin, enrollment_app, tmp_path):
    """Requests follow each mentee's ranking; an acceptance pairs them, a full mentor, a decline
    or silence past the deadline moves on, and an exhausted list leaves the mentee unmatched."""

    def post(url, body):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    inst = post("/api/institutions", {"name": "C", "short_code": "C", "time_zone": "UTC"})
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "Choice", "program_type": "resident_peer_mentoring"},
    )
    cycle = post(f"/api/programs/{program['id']}/cycles", {"name": "2026-27"})
    person, enrolled = {}, {}
    for name, level, role in [
        ("m0", "PGY5", "mentor"),
        ("m1", "PGY5", "mentor"),
        ("a", "PGY1", "mentee"),
        ("b", "PGY1", "mentee"),
        ("c", "PGY1", "mentee"),
        ("d", "PGY1", "mentee"),
    ]:
        person[name] = post(
            "/api/people",
            {
                "institution_id": inst["id"],
                "name": name.upper(),
                "email": f"{name}@c.org",
                "training_level": level,
            },
        )
        body = {"person_id": person[name]["id"], "role": role} | (
            {"capacity": 1} if role == "mentor" else {}
        )
        enrolled[name] = post(f"/api/cycles/{cycle['id']}/enrollments", body)
    for mentee, ranked in {
        "a": ["m0", "m1"],
        "b": ["m0", "m1"],
        "c": ["m1"],
        "d": ["m1", "m0"],
    }.items():
        client.put(
            f"/api/enrollments/{enrolled[mentee]['id']}/ranking",
            json={"mentor_enrollment_ids": [enrolled[m]["id"] for m in ranked]},
            headers=admin,
        )
    url = f"sqlite:///{tmp_path / 'pairing-choice.db'}"
    upgrade(PAIRING.migrations, url)
    app = create_pairing_app(url)
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        deliver(PAIRING, app.extensions["tandem"], [e for _, e in source.store.read_all(conn)])
    pairing = app.test_client()
    coordinator = auth_headers(Grant(COORDINATOR, inst["id"]), user="coord")
    as_person = {
        n: auth_headers(Grant(MENTEE, inst["id"], program["id"]), user=person[n]["id"])
        for n in person
    }
    ids = {n: person[n]["id"] for n in person}

    def requests_by_mentee(status="pending"):
        rows = pairing.get(f"/api/cycles/{cycle['id']}/requests", headers=coordinator).json
        return {r["mentee_id"]: r for r in rows if r["status"] == status}

    opened = pairing.post(
        f"/api/cycles/{cycle['id']}/choice-rounds", json={"response_hours": 24}, headers=coordinator
    )
    assert opened.status_code == 201, opened.json
    pending = requests_by_mentee()
    assert {m: r["mentor_id"] for m, r in pending.items()} == {
        ids["a"]: ids["m0"],
        ids["b"]: ids["m0"],
        ids["c"]: ids["m1"],
        ids["d"]: ids["m1"],
    }

    # Only the requested mentor answers; m0 takes A, which fills m0 and sends B on to m1.
    assert (
        pairing.post(
            f"/api/requests/{pending[ids['a']]['request_id']}/accept", headers=as_person["m1"]
        ).status_code
        == 403
    )
    assert (
        pairing.post(
            f"/api/requests/{pending[ids['a']]['request_id']}/accept", headers=as_person["m0"]
        ).status_code
        == 200
    )
    pending = requests_by_mentee()
    assert pending[ids["b"]]["mentor_id"] == ids["m1"] and pending[ids["b"]]["rank"] == 2

    # m1 declines C (whose list then runs out) and says nothing to B or D.
    assert (
        pairing.post(
            f"/api/requests/{pending[ids['c']]['request_id']}/decline",
            json={"reason": "full rota"},
            headers=as_person["m1"],
        ).status_code
        == 200
    )
    assert ids["c"] not in requests_by_mentee()

    # Nothing is past its deadline yet: expiring now changes nothing.
    rt = app.extensions["tandem"]
    now = pairing.post(f"/api/cycles/{cycle['id']}/choice-rounds/expire", headers=coordinator)
    assert now.status_code == 200 and not [r for r in now.json if r["status"] == "expired"]

    # A day later (the worker's deadline loop, on its clock) the silence counts as a decline:
    # D moves on to m0, who is full, so D is unmatched.
    later = utcnow() + dt.timedelta(hours=25)
    assert RequestDeadlines(rt, clock=lambda: later).run_once() == 2
    expired = pairing.get(f"/api/cycles/{cycle['id']}/requests", headers=coordinator).json
    assert {r["mentee_id"] for r in expired if r["status"] == "expired"} == {ids["b"], ids["d"]}
    assert requests_by_mentee() == {}
    pairs = pairing.get(f"/api/cycles/{cycle['id']}/pairs", headers=coordinator).json
    assert [(p["mentee_id"], p["mentor_id"]) for p in pairs] == [(ids["a"], ids["m0"])]
    mine = pairing.get(f"/api/cycles/{cycle['id']}/requests", headers=as_person["d"]).json
    assert {r["mentee_id"] for r in mine} == {ids["d"]}  # a participant sees only their own
    with rt.reading() as conn:
        unmatched = {
            e.payload["mentee_id"]
            for _, e in rt.store.read_all(conn)
            if e.event_type == "MenteeUnmatched"
        }
    assert unmatched == {ids["b"], ids["c"], ids["d"]}
    rt.engine.dispose()


class World:
    """Cycles built through the enrollment API and delivered to a fresh pairing service."""

    def __init__(self, client, admin, enrollment_app, pairing_url: str) -> None:
        self.client, self.admin, self.source = client, admin, enrollment_app.extensions["tandem"]
        self.institution = self.post(
            "/api/institutions", {"name": "W", "short_code": "W", "time_zone": "UTC"}
        )
        upgrade(PAIRING.migrations, pairing_url)
        self.app = create_pairing_app(pairing_url)
        self.pairing = self.app.test_client()
        self.coordinator = auth_headers(Grant(COORDINATOR, self.institution["id"]), user="coord")
        self.person: dict[str, str] = {}
        self.enrollment: dict[tuple[str, str], str] = {}
        self.delivered = 0

    def post(self, url, body):
        response = self.client.post(url, json=body, headers=self.admin)
        assert response.status_code == 201, response.json
        return response.json

    def program(self, program_type: str) -> str:
        return self.post(
            f"/api/institutions/{self.institution['id']}/programs",
            {"name": program_type, "program_type": program_type},
        )["id"]

    def cycle(self, program_id: str, name: str, **settings) -> str:
        return self.post(f"/api/programs/{program_id}/cycles", {"name": name, **settings})["id"]

    def enroll(
        self, cycle_id: str, name: str, level: str, role: str, capacity: int | None = None
    ) -> None:
        if name not in self.person:
            body = {
                "institution_id": self.institution["id"],
                "name": name,
                "email": f"{name}@w.org",
                "training_level": level,
            }
            self.person[name] = self.post("/api/people", body)["id"]
        body = {"person_id": self.person[name], "role": role} | (
            {"capacity": capacity} if capacity else {}
        )
        self.enrollment[(cycle_id, name)] = self.post(f"/api/cycles/{cycle_id}/enrollments", body)[
            "id"
        ]

    def sync(self) -> None:
        """Deliver the enrollment events pairing has not seen yet."""
        with self.source.reading() as conn:
            events = [e for _, e in self.source.store.read_all(conn)]
        deliver(PAIRING, self.app.extensions["tandem"], events[self.delivered :])
        self.delivered = len(events)

    def events(self, event_type: str) -> list[dict]:
        rt = self.app.extensions["tandem"]
        with rt.reading() as conn:
            return [e.payload for _, e in rt.store.read_all(conn) if e.event_type == event_type]


def test_mentoring_families(client, admin, enrollment_app, tmp_path):
    """Each intern with a mid-level (PGY3 or research resident) and a senior (PGY4/5)."""
    world = World(client, admin, enrollment_app, f"sqlite:///{tmp_path / 'families.db'}")
    cycle = world.cycle(world.program("mentoring_families"), "2026-27", pairing_format="family")
    for name, level in [
        ("senior-a", "PGY5"),
        ("senior-b", "PGY4"),
        ("mid-a", "PGY3"),
        ("mid-b", "research_resident"),
    ]:
        world.enroll(cycle, name, level, "mentor", capacity=2)
    for n in range(4):
        world.enroll(cycle, f"intern-{n}", "PGY1", "mentee")
    world.sync()
    base = f"/api/cycles/{cycle}"
    wrong = world.pairing.post(
        f"{base}/runs", json={"algorithm": "stable"}, headers=world.coordinator
    )
    assert wrong.status_code == 422 and "algorithm" in wrong.json["errors"]["json"]
    proposal = world.pairing.post(
        f"{base}/runs",
        json={"algorithm": "families", "juniors_per_family": 2},
        headers=world.coordinator,
    ).json
    assert len(proposal["families"]) == 2
    seniors = {world.person["senior-a"], world.person["senior-b"]}
    mids = {world.person["mid-a"], world.person["mid-b"]}
    for family in proposal["families"]:
        assert (
            family["senior_id"] in seniors
            and family["mid_id"] in mids
            and len(family["junior_ids"]) == 2
        )
    for pair in proposal["pairs"]:
        assert pair["mentor_id"] in seniors and pair["co_mentor_id"] in mids
    intern = world.person["intern-0"]
    moved = world.pairing.post(
        f"{base}/proposal/edits",
        json={
            "action": "move",
            "person_id": intern,
            "mentor_id": world.person["senior-b"],
            "reason": "asked",
        },
        headers=world.coordinator,
    )
    assert moved.status_code == 422 and "action" in moved.json["errors"]["json"]
    assert (
        world.pairing.post(f"{base}/proposal/publish", headers=world.coordinator).status_code == 200
    )
    assert world.events("PairCreated") == []  # families, never their members as pairs
    assert sorted(len(f["junior_ids"]) for f in world.events("FamilyFormed")) == [2, 2]


def test_longitudinal_pairs_are_kept_unless_someone_asked_otherwise(
    client, admin, enrollment_app, tmp_path
):
    """The PGY2 stays with the PGY5 next year; a pair whose member asked for a rematch does not."""
    world = World(client, admin, enrollment_app, f"sqlite:///{tmp_path / 'longitudinal.db'}")
    program = world.program("resident_peer_mentoring")
    first = world.cycle(program, "2025-26")
    for name in ("pgy5-a", "pgy5-b"):
        world.enroll(first, name, "PGY5", "mentor", capacity=1)
    for name in ("stays", "moves"):
        world.enroll(first, name, "PGY2", "mentee")
    world.sync()
    world.pairing.post(
        f"/api/cycles/{first}/runs", json={"algorithm": "optimal"}, headers=world.coordinator
    )
    last_year = world.pairing.post(
        f"/api/cycles/{first}/proposal/publish", headers=world.coordinator
    ).json
    mentor_of = {p["mentee_id"]: p["mentor_id"] for p in last_year}
    mover = world.person["moves"]
    pair_id = next(p["pair_id"] for p in last_year if p["mentee_id"] == mover)
    asked = world.pairing.post(
        f"/api/pairs/{pair_id}/rematch-request",
        json={"reason": "new interests"},
        headers=auth_headers(Grant(MENTEE, world.institution["id"]), user=mover),
    )
    assert asked.status_code == 200

    second = world.cycle(program, "2026-27")
    for name in ("pgy5-a", "pgy5-b"):
        world.enroll(second, name, "PGY5", "mentor", capacity=1)
    for name in ("stays", "moves"):
        world.enroll(second, name, "PGY2", "mentee")
    world.sync()
    other_program = world.cycle(world.program("faculty_mentoring"), "Other")
    world.sync()
    bad = world.pairing.post(
        f"/api/cycles/{second}/runs",
        json={"algorithm": "stable", "keep_pairs_from_cycle": other_program},
        headers=world.coordinator,
    )
    assert bad.status_code == 422 and "keep_pairs_from_cycle" in bad.json["errors"]["json"]
    proposal = world.pairing.post(
        f"/api/cycles/{second}/runs",
        json={"algorithm": "stable", "keep_pairs_from_cycle": first},
        headers=world.coordinator,
    ).json
    kept = {p["mentee_id"]: p for p in proposal["pairs"]}
    stayer = world.person["stays"]
    assert kept[stayer]["mentor_id"] == mentor_of[stayer] and kept[stayer]["pinned"]
    assert not kept[mover]["pinned"]


def test_consented_shared_identity_counts_only_with_both_consents(
    client, admin, enrollment_app, tmp_path
):
    world = World(client, admin, enrollment_app, f"sqlite:///{tmp_path / 'identity.db'}")
    cycle = world.cycle(world.program("resident_peer_mentoring"), "2026-27")
    world.enroll(cycle, "shares", "PGY5", "mentor", capacity=1)
    world.enroll(cycle, "private", "PGY5", "mentor", capacity=1)
    world.enroll(cycle, "mentee", "PGY1", "mentee")
    identity = {"identity": {"consent": True, "urim": "yes"}}
    for name in ("shares", "mentee"):
        response = client.patch(
            f"/api/enrollments/{world.enrollment[(cycle, name)]}", json=identity, headers=admin
        )
        assert response.status_code == 200, response.json
    world.sync()
    proposal = world.pairing.post(
        f"/api/cycles/{cycle}/runs",
        json={"algorithm": "optimal", "weights": {"identity": 5}},
        headers=world.coordinator,
    ).json
    (pair,) = proposal["pairs"]
    assert pair["mentor_id"] == world.person["shares"]
    assert pair["breakdown"]["identity"] == 5.0


def test_the_candidate_pool_shows_the_conflicts_pairing_honours(cycle):
    people = cycle["people"]
    response = cycle["client"].get(
        f"/api/cycles/{cycle['id']}/candidates", headers=cycle["coordinator"]
    )
    assert response.status_code == 200
    declared = {c["person_id"]: c["conflicts"] for c in response.json}
    assert declared[people["intern1"]["id"]] == [
        {"other_person_id": people["mentor0"]["id"], "kind": "supervisor"}
    ]
    assert all(declared[people[f"intern{n}"]["id"]] == [] for n in (0, 2, 3, 4, 5))


def test_large_reads_are_conditional_on_the_read_revision(cycle, client, admin, enrollment_app):
    """A caller holding the current answer is told 304; an event consumed from enrollment or a
    command's append changes the answer's tag; another caller's tag never stands for it."""
    pairing, coordinator = cycle["client"], cycle["coordinator"]
    url = f"/api/cycles/{cycle['id']}/candidates"
    first = pairing.get(url, headers=coordinator)
    tag = first.headers["ETag"]
    assert first.status_code == 200 and tag
    again = pairing.get(url, headers={**coordinator, "If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    colleague = auth_headers(Grant(COORDINATOR, cycle["institution_id"]), user="coord-2")
    theirs = pairing.get(url, headers={**colleague, "If-None-Match": tag})
    assert theirs.status_code == 200 and theirs.headers["ETag"] != tag

    # A new mentee enrolled: once pairing has consumed the events, the old copy no longer stands.
    person = client.post("/api/people", json={"institution_id": cycle["institution_id"],
                         "name": "Intern 9", "email": "i9@x.org", "training_level": "PGY1"},
                         headers=admin).json  # fmt: skip
    client.post(f"/api/cycles/{cycle['id']}/enrollments",
                json={"person_id": person["id"], "role": "mentee"}, headers=admin)  # fmt: skip
    assert pairing.get(url, headers={**coordinator, "If-None-Match": tag}).status_code == 304
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        deliver(
            PAIRING, cycle["app"].extensions["tandem"], [e for _, e in source.store.read_all(conn)]
        )
    changed = pairing.get(url, headers={**coordinator, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] != tag
    assert person["id"] in {c["person_id"] for c in changed.json}
    # Delivered again (a redelivery), nothing changes: the copy just fetched still stands.
    with source.reading() as conn:
        deliver(
            PAIRING, cycle["app"].extensions["tandem"], [e for _, e in source.store.read_all(conn)]
        )
    assert (
        pairing.get(
            url, headers={**coordinator, "If-None-Match": changed.headers["ETag"]}
        ).status_code
        == 304
    )

    # A run appends: the proposal read before it is not the one after.
    proposal = f"/api/cycles/{cycle['id']}/proposal"
    pairing.post(
        f"/api/cycles/{cycle['id']}/runs", json={"algorithm": "stable"}, headers=coordinator
    )
    before = pairing.get(proposal, headers=coordinator)
    held = {**coordinator, "If-None-Match": before.headers["ETag"]}
    assert pairing.get(proposal, headers=held).status_code == 304
    pairing.post(
        f"/api/cycles/{cycle['id']}/runs",
        json={"algorithm": "random", "seed": 3},
        headers=coordinator,
    )
    after = pairing.get(proposal, headers=held)
    assert after.status_code == 200 and after.json["algorithm"] == "random"
    # Read models rebuilt (a fixed projection, say): no answer from before them stands.
    fresh = {**coordinator, "If-None-Match": after.headers["ETag"]}
    assert pairing.get(proposal, headers=fresh).status_code == 304
    rebuild_own(cycle["app"].extensions["tandem"])
    assert pairing.get(proposal, headers=fresh).status_code == 200
    # The tag is checked after the caller is authorized: an outsider with it is still refused.
    outsider = {**cycle["outsider"], "If-None-Match": after.headers["ETag"]}
    assert pairing.get(proposal, headers=outsider).status_code == 403
