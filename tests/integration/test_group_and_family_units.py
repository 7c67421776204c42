"""Groups and families through the real broker: enrollment → pairing → feedback and
notifications, each service's worker on the broker. A group-coaching cycle publishes groups and a
families cycle families: feedback knows each as one unit (one meeting log, one concern target,
counted once in program health), each member is told once with everyone in it, and nobody is
ever told of, or can act on, a one-to-one pair."""

from __future__ import annotations

import datetime as dt
import types

import pytest
import sqlalchemy as sa

from services.enrollment.service import SERVICE as ENROLLMENT
from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant
from services.eventkit.migrations import upgrade
from services.eventkit.worker import Worker
from services.feedback.app import create_app as feedback_app
from services.feedback.service import SERVICE as FEEDBACK
from services.notifications import readmodels as notices
from services.notifications.service import SERVICE as NOTIFICATIONS
from services.pairing.app import create_app as pairing_app
from services.pairing.service import SERVICE as PAIRING
from support import auth_headers, wait_until

pytestmark = pytest.mark.kafka


@pytest.fixture
def suite(topic_prefix, client, admin, enrollment_app, database_url, request, tmp_path,
          kafka_bootstrap):  # fmt: skip
    """Pairing, feedback and notifications with their workers on the broker, and a way to set
    up a cycle through enrollment."""

    def db(name: str) -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / name}.db"
        return request.getfixturevalue("pg_database_factory")(name)

    urls = {"pairing": db("pairing"), "feedback": db("feedback"), "notifications": db("notif")}
    for service, url in ((PAIRING, urls["pairing"]), (FEEDBACK, urls["feedback"]),
                         (NOTIFICATIONS, urls["notifications"])):  # fmt: skip
        upgrade(service.migrations, url)
    workers = [
        Worker(ENROLLMENT, database_url, kafka_bootstrap),
        Worker(PAIRING, urls["pairing"], kafka_bootstrap),
        Worker(FEEDBACK, urls["feedback"], kafka_bootstrap),
        Worker(NOTIFICATIONS, urls["notifications"], kafka_bootstrap),
    ]
    for worker in workers:
        worker.start()

    def post(url: str, body: dict) -> dict:
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    inst = post("/api/institutions", {"name": "Harbour", "short_code": "HB", "time_zone": "UTC"})

    def cycle(program_type: str, people: list[tuple[str, str, str]], **settings) -> dict:
        program = post(
            f"/api/institutions/{inst['id']}/programs",
            {"name": program_type, "program_type": program_type},
        )
        found = post(f"/api/programs/{program['id']}/cycles", {"name": "2026-27", **settings})
        ids = {}
        for name, level, role in people:
            person = post("/api/people", {"institution_id": inst["id"], "name": name,
                                          "email": f"{name.replace(' ', '.')}@hb.org", "training_level": level})  # fmt: skip
            body = {"person_id": person["id"], "role": role}
            post(f"/api/cycles/{found['id']}/enrollments", body | ({"capacity": 5} if role == "mentor" else {}))  # fmt: skip
            ids[name] = person["id"]
        return {"id": found["id"], "program": program["id"], "ids": ids}

    try:
        yield types.SimpleNamespace(
            cycle=cycle,
            pairing=pairing_app(urls["pairing"]).test_client(),
            feedback=feedback_app(urls["feedback"]).test_client(),
            notifications=workers[3].runtime,
            pairing_rt=workers[1].runtime,
            coordinator=auth_headers(Grant(COORDINATOR, inst["id"]), user="coord"),
            inst=inst["id"],
        )
    finally:
        for worker in workers:
            worker.shutdown()


def _run_and_publish(suite, cycle: dict, body: dict) -> None:
    base = f"/api/cycles/{cycle['id']}"
    wait_until(
        lambda: (
            len(suite.pairing.get(f"{base}/candidates", headers=suite.coordinator).json or [])
            == len(cycle["ids"])
        ),
        timeout_s=60,
    )
    ran = suite.pairing.post(f"{base}/runs", json=body, headers=suite.coordinator)
    assert ran.status_code == 201, ran.json
    published = suite.pairing.post(f"{base}/proposal/publish", headers=suite.coordinator)
    assert published.status_code == 200 and published.json == []  # no pair at all


def _as(suite, cycle: dict, name: str, role: str) -> dict:
    grant = Grant(MENTOR if role == "mentor" else MENTEE, suite.inst, cycle["program"])
    return auth_headers(grant, user=cycle["ids"][name])


def _notices(suite, person_id: str) -> list[str]:
    """What the person was told, apart from being enrolled."""
    n = notices.notifications
    with suite.notifications.reading() as conn:
        told = conn.execute(sa.select(n.c.kind).where(n.c.recipient_id == person_id)).scalars()
        return sorted(kind for kind in told if kind != "enrolled")


def _published_types(suite) -> list[str]:
    rt = suite.pairing_rt
    with rt.reading() as conn:
        return [e.event_type for _, e in rt.store.read_all(conn)]


def test_a_group_coaching_cycle_is_groups_everywhere(suite):
    """Final-year students coached in groups of 5 by junior residents."""
    people = [(f"Coach {c}", "PGY1", "mentor") for c in "AB"]
    people += [(f"Student {n}", "MS6", "mentee") for n in range(10)]
    cycle = suite.cycle("student_career_coaching", people, pairing_format="group", group_size=5)
    _run_and_publish(suite, cycle, {"algorithm": "groups", "min_level_gap": 1})
    kinds = _published_types(suite)
    assert kinds.count("GroupFormed") == 2 and "PairCreated" not in kinds

    units = suite.pairing.get(f"/api/cycles/{cycle['id']}/units", headers=suite.coordinator).json
    assert sorted(u["kind"] for u in units) == ["group", "group"]
    for unit in units:
        roles = [m["role"] for m in unit["members"]]
        assert roles == ["coach", *["member"] * 5] and unit["members"][0]["name"].startswith(
            "Coach"
        )
    assert (
        suite.pairing.get(f"/api/cycles/{cycle['id']}/pairs", headers=suite.coordinator).json == []
    )

    student = _as(suite, cycle, "Student 0", "mentee")
    mine = wait_until(
        lambda: suite.feedback.get("/api/me/pairs", headers=student).json, timeout_s=60
    )
    (group,) = mine
    assert group["kind"] == "group" and len(group["members"]) == 6
    assert sorted(group["titles"].values()) == ["coach", *["member"] * 5]
    today = dt.date.today().isoformat()
    logged = suite.feedback.post(f"/api/pairs/{group['pair_id']}/meetings", headers=student,
                                 json={"date": today, "duration_minutes": 60, "mode": "in_person"})  # fmt: skip
    assert logged.status_code == 201, logged.json
    health = suite.feedback.get(f"/api/cycles/{cycle['id']}/health", headers=suite.coordinator).json
    assert health["units"] == {"pair": 0, "group": 2, "family": 0}
    assert health["meetings"]["pairs"] == 2 and health["meetings"]["meetings"] == 1

    for name, person_id in cycle["ids"].items():
        wait_until(lambda p=person_id: "group_formed" in _notices(suite, p), timeout_s=60)
        told = _notices(suite, person_id)  # the meeting logged above asks the others to confirm
        assert told.count("group_formed") == 1 and "pair_published" not in told, name

    # The coordinator ends a group (a member asked for a rematch): feedback sees it ended.
    coach_a = cycle["ids"]["Coach A"]
    group_a = next(u for u in units if u["members"][0]["person_id"] == coach_a)
    member = group_a["members"][1]["person_id"]
    asked = suite.pairing.post(
        f"/api/pairs/{group_a['unit_id']}/rematch-request", json={"reason": "another coach"},
        headers=auth_headers(Grant(MENTEE, suite.inst, cycle["program"]), user=member),
    )  # fmt: skip
    assert asked.status_code == 200 and asked.json["rematch_requested_by"] == member
    ended = suite.pairing.post(f"/api/pairs/{group_a['unit_id']}/end",
                               json={"reason": "regrouping"}, headers=suite.coordinator)  # fmt: skip
    assert ended.status_code == 200 and ended.json["status"] == "ended"
    coach = _as(suite, cycle, "Coach A", "mentor")
    wait_until(
        lambda: (
            [r["active"] for r in suite.feedback.get("/api/me/pairs", headers=coach).json]
            == [False]
        ),
        timeout_s=60,
    )


def test_a_families_cycle_is_families_everywhere(suite):
    """Intern, PGY2, mid-level and senior: every member knows the whole family."""
    people = [("Senior S", "PGY5", "mentor"), ("Mid M", "PGY3", "mentor"),
              ("Intern I", "PGY1", "mentee"), ("Second-year Y", "PGY1", "mentee")]  # fmt: skip
    cycle = suite.cycle("mentoring_families", people, pairing_format="family")
    _run_and_publish(suite, cycle, {"algorithm": "families", "juniors_per_family": 2,
                                    "min_level_gap": 1})  # fmt: skip
    kinds = _published_types(suite)
    assert kinds.count("FamilyFormed") == 1 and "PairCreated" not in kinds
    (family,) = suite.pairing.get(
        f"/api/cycles/{cycle['id']}/units", headers=suite.coordinator
    ).json
    assert [(m["name"], m["role"]) for m in family["members"]] == [
        ("Senior S", "senior"), ("Mid M", "mid"), ("Intern I", "junior"),
        ("Second-year Y", "junior"),
    ]  # fmt: skip

    intern = _as(suite, cycle, "Intern I", "mentee")
    mine = wait_until(
        lambda: suite.feedback.get("/api/me/pairs", headers=intern).json, timeout_s=60
    )
    (unit,) = mine
    assert unit["kind"] == "family"
    assert sorted(unit["names"].values()) == ["Intern I", "Mid M", "Second-year Y", "Senior S"]
    assert unit["titles"][cycle["ids"]["Second-year Y"]] == "junior"
    assert unit["members"][cycle["ids"]["Mid M"]] == "mentor"
    # The intern sees the co-junior's name through pairing too (their own family only).
    seen = suite.pairing.get(f"/api/cycles/{cycle['id']}/units", headers=intern).json
    assert [m["name"] for m in seen[0]["members"]][-1] == "Second-year Y"
    raised = suite.feedback.post(f"/api/pairs/{unit['pair_id']}/concerns", headers=intern,
                                 json={"kind": "other", "text": "A word in private"})  # fmt: skip
    assert raised.status_code == 201, raised.json
    health = suite.feedback.get(f"/api/cycles/{cycle['id']}/health", headers=suite.coordinator).json
    assert health["units"] == {"pair": 0, "group": 0, "family": 1}
    for person_id in cycle["ids"].values():
        wait_until(lambda p=person_id: "family_formed" in _notices(suite, p), timeout_s=60)
        assert _notices(suite, person_id) == ["family_formed"]
