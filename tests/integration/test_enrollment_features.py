"""Enrollment through HTTP on SQLite and PostgreSQL: profiles, ranking, conflicts, guidelines,
withdrawal, cycles, staff roles, and the tenant rule. Every refusal is a 4xx naming the field and
writes no event."""

from types import SimpleNamespace

import pytest

from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant
from support import auth_headers


def _post(client, url, body, headers, status=201):
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == status, response.json
    return response.json


@pytest.fixture
def world(client, admin):
    a = _post(
        client,
        "/api/institutions",
        {"name": "Northfield", "short_code": "NUH", "time_zone": "America/Chicago"},
        admin,
    )
    b = _post(
        client,
        "/api/institutions",
        {"name": "Lakeside", "short_code": "LSM", "time_zone": "UTC"},
        admin,
    )
    program = _post(
        client, f"/api/institutions/{a['id']}/programs",
        {"name": "Surgery peer mentoring", "program_type": "resident_peer_mentoring", "guidelines": "Meet monthly."},
        admin,
    )  # fmt: skip
    cycle = _post(
        client, f"/api/programs/{program['id']}/cycles",
        {"name": "2026-27", "meeting_expectations": "monthly", "review_months": [6, 12]}, admin,
    )  # fmt: skip

    def person(institution, name, level):
        email = f"{name.lower().replace(' ', '.')}@example.org"
        body = {
            "institution_id": institution["id"],
            "name": name,
            "email": email,
            "training_level": level,
        }
        return _post(client, "/api/people", body, admin)

    def enroll(who, role, **profile):
        body = {"person_id": who["id"], "role": role, **profile}
        return _post(client, f"/api/cycles/{cycle['id']}/enrollments", body, admin)

    m1, m2 = person(a, "Dr One", "PGY5"), person(a, "Dr Two", "PGY4")
    mentee, outsider = person(a, "Ina Intern", "PGY1"), person(b, "Out Sider", "PGY1")
    return SimpleNamespace(
        a=a, b=b, program=program, cycle=cycle, people={"m1": m1, "m2": m2, "mentee": mentee, "outsider": outsider},
        m1=enroll(m1, "mentor", capacity=2, interests=["trauma"]),
        m2=enroll(m2, "mentor", capacity=1),
        mentee=enroll(mentee, "mentee", interests=["trauma", "research"], meeting_mode="virtual"),
        coordinator_a=auth_headers(Grant(COORDINATOR, a["id"]), user="coord-a"),
        coordinator_b=auth_headers(Grant(COORDINATOR, b["id"]), user="coord-b"),
        mentee_self=auth_headers(Grant(MENTEE, a["id"], program["id"]), user=mentee["id"]),
        mentor_self=auth_headers(Grant(MENTOR, a["id"], program["id"]), user=m1["id"]),
    )  # fmt: skip


def _refused(client, method, url, body, headers, field, stored_events, status=422):
    before = stored_events()
    response = getattr(client, method)(url, json=body, headers=headers)
    assert response.status_code == status, response.json
    if field:
        assert field in response.json["errors"]["json"], response.json
    assert stored_events() == before
    return response.json


def test_cycle_settings_are_kept(client, world, admin):
    cycle = client.get(f"/api/cycles/{world.cycle['id']}", headers=admin).json
    assert cycle["review_months"] == [6, 12] and cycle["meeting_expectations"] == "monthly"
    group = _post(
        client, f"/api/programs/{world.program['id']}/cycles",
        {"name": "Coaching 2026", "pairing_format": "group", "group_size": 5}, admin,
    )  # fmt: skip
    assert group["pairing_format"] == "group" and group["group_size"] == 5


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Groups", "pairing_format": "group"}, "group_size"),
        ({"name": "X", "pairing_format": "pairs"}, "pairing_format"),
        ({"name": "X", "review_months": [0]}, "review_months"),
        ({"name": "2026-27"}, "name"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_cycles_are_refused(client, world, admin, stored_events, body, field):
    _refused(
        client,
        "post",
        f"/api/programs/{world.program['id']}/cycles",
        body,
        admin,
        field,
        stored_events,
    )


def test_closed_cycle_refuses_enrollment_and_reopens(client, world, admin, stored_events):
    cycle_id = world.cycle["id"]
    assert (
        client.post(f"/api/cycles/{cycle_id}/close", headers=world.coordinator_a).json["is_open"]
        is False
    )
    extra = _post(
        client,
        "/api/people",
        {
            "institution_id": world.a["id"],
            "name": "Late",
            "email": "late@example.org",
            "training_level": "PGY1",
        },
        admin,
    )
    body = {"person_id": extra["id"], "role": "mentee"}
    response = _refused(
        client,
        "post",
        f"/api/cycles/{cycle_id}/enrollments",
        body,
        admin,
        "cycle_id",
        stored_events,
    )
    assert "closed" in response["message"]
    assert client.post(f"/api/cycles/{cycle_id}/close", headers=admin).status_code == 422
    assert client.post(f"/api/cycles/{cycle_id}/reopen", headers=admin).json["is_open"] is True
    _post(client, f"/api/cycles/{cycle_id}/enrollments", body, admin)


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"meeting_mode": "telepathy"}, "meeting_mode"),
        ({"availability": ["someday"]}, "availability"),
        ({"identity": {"consent": False, "urim": "yes"}}, "identity"),
        ({"interests": ["x" * 101]}, "interests"),
    ],
)
def test_bad_profile_edits_are_refused(client, world, stored_events, patch, field):
    url = f"/api/enrollments/{world.m1['id']}"
    _refused(client, "patch", url, patch, world.mentor_self, field, stored_events)


def test_participants_edit_their_own_profile_only(client, world, stored_events):
    url = f"/api/enrollments/{world.mentee['id']}"
    body = {"goals": "Match into paediatric surgery", "availability": ["tue-eve", "sat-am"],
            "identity": {"consent": True, "first_generation": "yes"}}  # fmt: skip
    updated = client.patch(url, json=body, headers=world.mentee_self)
    assert updated.status_code == 200
    assert updated.json["identity"] == {"first_generation": "yes"}
    assert client.get(url, headers=world.mentor_self).status_code == 403
    _refused(
        client,
        "patch",
        url,
        {"goals": "hijack"},
        world.mentor_self,
        None,
        stored_events,
        status=403,
    )
    withdrawn_consent = client.patch(url, json={"identity": None}, headers=world.mentee_self).json
    assert withdrawn_consent["identity"] is None


def test_mentee_ranks_mentors_of_the_same_cycle(client, world, admin, stored_events):
    url = f"/api/enrollments/{world.mentee['id']}/ranking"
    ranked = client.put(
        url,
        json={"mentor_enrollment_ids": [world.m2["id"], world.m1["id"]]},
        headers=world.mentee_self,
    )
    assert ranked.status_code == 200 and ranked.json["ranking"] == [world.m2["id"], world.m1["id"]]
    other_cycle = _post(
        client, f"/api/programs/{world.program['id']}/cycles", {"name": "2027-28"}, admin
    )
    elsewhere = _post(
        client,
        f"/api/cycles/{other_cycle['id']}/enrollments",
        {"person_id": world.people["m2"]["id"], "role": "mentor", "capacity": 1},
        admin,
    )
    for bad in (
        [elsewhere["id"]],
        [world.m1["id"], world.m1["id"]],
        [world.mentee["id"]],
        ["no-such-enrollment"],
    ):
        _refused(
            client,
            "put",
            url,
            {"mentor_enrollment_ids": bad},
            world.mentee_self,
            "mentor_enrollment_ids",
            stored_events,
        )
    _refused(
        client, "put", f"/api/enrollments/{world.m1['id']}/ranking", {"mentor_enrollment_ids": [world.m2["id"]]},
        world.mentor_self, "mentor_enrollment_ids", stored_events,
    )  # fmt: skip
    mentors = client.get(f"/api/cycles/{world.cycle['id']}/mentors", headers=world.mentee_self).json
    assert {m["id"] for m in mentors} == {world.m1["id"], world.m2["id"]}
    assert all("email" not in m for m in mentors)


def test_conflicts_of_interest(client, world, stored_events):
    url = f"/api/enrollments/{world.mentee['id']}/conflicts"
    supervisor = world.people["m1"]["id"]
    assert (
        client.post(
            url,
            json={"other_person_id": supervisor, "kind": "supervisor"},
            headers=world.mentee_self,
        ).status_code
        == 200
    )
    assert client.get(url, headers=world.coordinator_a).json == [
        {"other_person_id": supervisor, "kind": "supervisor"}
    ]
    _refused(
        client,
        "post",
        url,
        {"other_person_id": supervisor, "kind": "rival"},
        world.mentee_self,
        "kind",
        stored_events,
    )
    _refused(
        client,
        "post",
        url,
        {"other_person_id": world.people["mentee"]["id"], "kind": "personal"},
        world.mentee_self,
        "other_person_id",
        stored_events,
    )
    assert client.delete(f"{url}/{supervisor}", headers=world.mentee_self).status_code == 200
    assert client.get(url, headers=world.mentee_self).json == []


def test_guidelines_acceptance_follows_the_current_version(client, world, admin):
    accept = f"/api/enrollments/{world.mentee['id']}/guidelines-acceptance"
    assert client.post(accept, headers=world.mentee_self).json["guidelines_accepted_version"] == 1
    program = client.put(
        f"/api/programs/{world.program['id']}/guidelines",
        json={"guidelines": "Meet monthly; be kind."},
        headers=world.coordinator_a,
    ).json
    assert program["guidelines_version"] == 2
    assert client.post(accept, headers=world.mentee_self).json["guidelines_accepted_version"] == 2


def test_withdrawal_and_reenrollment(client, world, admin, stored_events):
    base = f"/api/enrollments/{world.m2['id']}"
    withdrawn = client.post(
        f"{base}/withdraw", json={"reason": "parental leave"}, headers=world.coordinator_a
    ).json
    assert withdrawn["status"] == "withdrawn" and withdrawn["withdrawal_reason"] == "parental leave"
    _refused(client, "post", f"{base}/withdraw", {}, admin, None, stored_events)
    again = {"person_id": world.people["m2"]["id"], "role": "mentor", "capacity": 1}
    _refused(
        client,
        "post",
        f"/api/cycles/{world.cycle['id']}/enrollments",
        again,
        admin,
        "person_id",
        stored_events,
    )
    assert client.post(f"{base}/reenroll", headers=admin).json["status"] == "active"
    roster = client.get(
        f"/api/cycles/{world.cycle['id']}/enrollments?status=active&role=mentor", headers=admin
    ).json
    assert {e["id"] for e in roster} == {world.m1["id"], world.m2["id"]}


def test_staff_roles_and_grants(client, world, admin, stored_events):
    person = world.people["m1"]["id"]
    url = f"/api/people/{person}/roles"
    granted = client.post(
        url,
        json={"role": "coordinator", "institution_id": world.a["id"]},
        headers=world.coordinator_a,
    )
    assert granted.status_code == 200
    assert {
        "role": "coordinator",
        "institution_id": world.a["id"],
        "program_id": None,
    } in granted.json
    grants = client.get(f"/api/people/{person}/grants", headers=world.mentor_self).json
    assert {g["role"] for g in grants} == {"coordinator", "mentor"}
    _refused(
        client,
        "post",
        url,
        {"role": "consortium_admin"},
        world.coordinator_a,
        None,
        stored_events,
        status=403,
    )
    _refused(
        client,
        "post",
        url,
        {"role": "coordinator", "institution_id": world.b["id"]},
        world.coordinator_b,
        "institution_id",
        stored_events,
    )
    assert client.get(f"/api/people/{person}/grants", headers=world.mentee_self).status_code == 403
    revoked = client.post(
        f"{url}/revoke",
        json={"role": "coordinator", "institution_id": world.a["id"]},
        headers=admin,
    )
    assert {g["role"] for g in revoked.json} == {"mentor"}


def test_the_tenant_rule(client, world, stored_events):
    """A coordinator of institution B can neither read nor change anything of institution A."""
    b = world.coordinator_b
    reads = [
        f"/api/people?institution_id={world.a['id']}",
        f"/api/people/{world.people['mentee']['id']}",
        f"/api/cycles/{world.cycle['id']}",
        f"/api/cycles/{world.cycle['id']}/enrollments",
        f"/api/enrollments/{world.mentee['id']}",
        f"/api/enrollments/{world.mentee['id']}/conflicts",
        f"/api/programs/{world.program['id']}",
        f"/api/institutions/{world.a['id']}/programs",
    ]
    for url in reads:
        assert client.get(url, headers=b).status_code == 403, url
    writes = [
        ("post", f"/api/cycles/{world.cycle['id']}/close", {}),
        ("post", f"/api/programs/{world.program['id']}/cycles", {"name": "Hijack"}),
        ("put", f"/api/programs/{world.program['id']}/guidelines", {"guidelines": "x"}),
        ("patch", f"/api/people/{world.people['mentee']['id']}", {"name": "Renamed"}),
        ("patch", f"/api/enrollments/{world.mentee['id']}", {"goals": "x"}),
        ("post", f"/api/enrollments/{world.mentee['id']}/withdraw", {}),
        (
            "post",
            f"/api/cycles/{world.cycle['id']}/enrollments",
            {"person_id": world.people["outsider"]["id"], "role": "mentee"},
        ),
    ]
    for method, url, body in writes:
        _refused(client, method, url, body, b, None, stored_events, status=403)
    assert [i["id"] for i in client.get("/api/institutions", headers=b).json] == [world.b["id"]]


@pytest.mark.kafka
def test_every_change_reaches_kafka_as_a_valid_contract_event(
    topic_prefix, client, world, admin, enrollment_app, kafka_bootstrap
):
    """Other services learn everything from the topic: each event type arrives, valid and in order."""
    import json

    from services.eventkit import keyring
    from services.eventkit.bus import KafkaPublisher, ensure_topics
    from services.eventkit.contracts.enrollment import registry
    from services.eventkit.envelope import Envelope
    from services.eventkit.relay import Relay
    from support import read_topic

    mentee = f"/api/enrollments/{world.mentee['id']}"
    client.patch(mentee, json={"goals": "Research year"}, headers=world.mentee_self)
    client.put(
        f"{mentee}/ranking",
        json={"mentor_enrollment_ids": [world.m1["id"]]},
        headers=world.mentee_self,
    )
    client.post(
        f"{mentee}/conflicts",
        json={"other_person_id": world.people["m2"]["id"], "kind": "assessor"},
        headers=world.mentee_self,
    )
    client.post(f"{mentee}/guidelines-acceptance", headers=world.mentee_self)
    client.post(f"{mentee}/withdraw", json={"reason": "leave"}, headers=admin)
    client.post(f"{mentee}/reenroll", headers=admin)
    client.post(
        f"/api/people/{world.people['m1']['id']}/roles",
        json={"role": "coordinator", "institution_id": world.a["id"]},
        headers=admin,
    )
    client.patch(
        f"/api/people/{world.people['m1']['id']}", json={"pronouns": "she/her"}, headers=admin
    )
    client.post(f"/api/cycles/{world.cycle['id']}/close", headers=admin)

    rt = enrollment_app.extensions["tandem"]
    topic = rt.store.topic
    assert topic.startswith(topic_prefix)  # this test's own topic
    ensure_topics(kafka_bootstrap, [topic])
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = Relay(rt.engine, rt.service.tables, publisher, name=topic)
    published = relay.drain()
    publisher.close()
    records = read_topic(kafka_bootstrap, topic, expected=published)
    ours = [
        json.loads(r.value)
        for r in records
        if json.loads(r.value)["institution_id"] in (world.a["id"], world.b["id"])
    ]
    types = {e["event_type"] for e in ours}
    assert types >= {
        "InstitutionAdded", "ProgramCreated", "CycleOpened", "PersonRegistered", "ParticipantEnrolled",
        "ProfileUpdated", "InterestRanked", "ConflictDeclared", "GuidelinesAccepted", "ParticipantWithdrew",
        "ParticipantReenrolled", "RoleGranted", "PersonUpdated", "CycleClosed",
    }  # fmt: skip
    for event in ours:
        # Personal fields travel sealed: a reader opens them through the kit, then validates.
        shown = keyring.readable(registry, Envelope.from_dict(event))
        registry.get(event["event_type"]).validate(shown.payload)
    versions: dict[str, list[int]] = {}
    for r in sorted(records, key=lambda r: (r.partition, r.offset)):
        event = json.loads(r.value)
        versions.setdefault(event["stream_id"], []).append(event["stream_version"])
    assert all(v == sorted(v) for v in versions.values())
