"""Erasing a person (POST /api/people/{id}/erasure) on SQLite and PostgreSQL: their personal
fields are ciphertext in every store row and on the topic; once their key is destroyed no read
model of any service holds their name or email after a rebuild (from the store and from the
topics), while every hash chain, seal and checkpoint verifies and every count stays."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from services.enrollment.domain import Person
from services.enrollment.service import SERVICE as ENROLLMENT
from services.eventkit import keyring
from services.eventkit.auth import ADMIN, COORDINATOR, Grant
from services.eventkit.bus import KafkaPublisher, ensure_topics
from services.eventkit.envelope import Envelope, Metadata, NewEvent
from services.eventkit.migrations import upgrade
from services.eventkit.operations import checkpoint, rebuild_from_topics, rebuild_own, verify
from services.eventkit.personal import ERASED, Personal, is_sealed
from services.eventkit.registry import Registry
from services.eventkit.relay import Relay
from services.eventkit.service import Runtime
from services.eventkit.store import EventStore
from services.feedback.service import SERVICE as FEEDBACK
from services.notifications.service import SERVICE as NOTIFICATIONS
from services.pairing.service import SERVICE as PAIRING
from support import auth_headers, deliver, read_topic

NAME, EMAIL = "Ada Quillfeather", "ada.quillfeather@nf.example"
GOALS = "QUILL-GOALS: a private wish to leave surgery"
LEGACY_NAME, LEGACY_EMAIL = "Carol Oldrecord", "carol.oldrecord@nf.example"
SEALED = ("Quillfeather", "ada.quillfeather", "QUILL-GOALS")
LEGACY = ("Oldrecord", "carol.oldrecord")


@pytest.fixture
def database(database_url, request, monkeypatch):
    """Where the other services' databases and the keyring go: beside the test's database."""
    if database_url.startswith("sqlite"):
        folder = sa.make_url(database_url).database.rsplit("/", 1)[0]

        def another(label: str) -> str:
            return f"sqlite:///{folder}/{label}.db"
    else:
        another = request.getfixturevalue("pg_database_factory")
    monkeypatch.setenv("TANDEM_KEYRING_URL", another("keyring"))
    return another


def _runtime(service, url: str) -> Runtime:
    upgrade(service.migrations, url)
    return Runtime(service, url)


def _texts(engine: sa.Engine, skip: tuple[str, ...] = ()) -> str:
    """Every row of every table of a database (but those skipped), as one text to search: as
    the database's owner, whom neither the app role's grants nor row-level security limit."""
    owner = sa.create_engine(engine.url.render_as_string(hide_password=False))
    found = []
    try:
        with owner.connect() as conn:
            meta = sa.MetaData()
            meta.reflect(bind=conn)
            for table in meta.sorted_tables:
                if table.name not in skip:
                    found.extend(str(tuple(row)) for row in conn.execute(sa.select(table)))
    finally:
        owner.dispose()
    return "\n".join(found)


def _leaks(rt: Runtime) -> list[str]:
    """The erased people's data found anywhere; the plaintext events written before sealing
    existed stay in the event store and its outbox (masked on every read), nowhere else."""
    kit = rt.service.tables
    everything = _texts(rt.engine)
    read_models = _texts(rt.engine, skip=(kit.events.name, kit.outbox.name))
    return [s for s in SEALED if s in everything] + [s for s in LEGACY if s in read_models]


def _counts(rt: Runtime, tables) -> dict[str, int]:
    with rt.engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in tables
        }


def _legacy_store(rt: Runtime) -> EventStore:
    """The store as it was before personal fields were sealed: PersonRegistered in plaintext."""
    registry = Registry()
    registry.include(ENROLLMENT.registry)
    current = registry.get("PersonRegistered")
    legacy = Registry()
    legacy.register(current.name, current.schema, current.version, current.upcasters)
    legacy.include(registry)
    return EventStore(rt.service.tables, legacy, rt.store.topic, rt.service.projections)


@pytest.fixture
def world(database, client, admin, enrollment_app):
    def post(url, body):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    inst = post(
        "/api/institutions", {"name": "Northfield", "short_code": "NUH", "time_zone": "UTC"}
    )
    program = post(
        f"/api/institutions/{inst['id']}/programs",
        {"name": "Peers", "program_type": "resident_peer_mentoring"},
    )
    cycle = post(f"/api/programs/{program['id']}/cycles", {"name": "2026"})
    person = {"institution_id": inst["id"], "training_level": "PGY1"}
    ada = post("/api/people", {**person, "name": NAME, "email": EMAIL, "pronouns": "she/her"})
    bob = post("/api/people", {**person, "name": "Bob Stays", "email": "bob@nf.example"})
    for who in (ada, bob):
        post(
            f"/api/cycles/{cycle['id']}/enrollments",
            {
                "person_id": who["id"],
                "role": "mentee",
                "goals": GOALS if who is ada else "cardiology",
                "identity": {"consent": True, "gender": "woman"},
            },
        )
    rt = enrollment_app.extensions["tandem"]
    carol = Person("00000000-0000-4000-8000-00000000c4a1")
    carol.register(inst["id"], LEGACY_NAME, LEGACY_EMAIL, "PGY2")
    with rt.engine.begin() as conn:
        _legacy_store(rt).append(conn, carol.stream_id, carol.pending, 0, Metadata(inst["id"]))
    return {"rt": rt, "ada": ada["id"], "bob": bob["id"], "carol": carol.id, "inst": inst["id"]}


def _stored(rt: Runtime) -> list[Envelope]:
    with rt.reading() as conn:
        return list(rt.store.read_streams_in_order(conn))


def test_personal_fields_are_ciphertext_in_the_store_and_the_outbox(world):
    rt = world["rt"]
    registered = [
        e for e in _stored(rt)
        if e.event_type == "PersonRegistered" and e.payload["person_id"] == world["ada"]
    ]  # fmt: skip
    assert len(registered) == 1
    payload = registered[0].payload
    assert all(is_sealed(payload[f]) for f in ("name", "email", "pronouns"))
    assert payload["training_level"] == "PGY1"  # not personal: readable for everyone
    with rt.engine.connect() as conn:
        stored = "\n".join(str(tuple(r)) for r in conn.execute(sa.select(rt.service.tables.events)))
        outbox = "\n".join(conn.execute(sa.select(rt.service.tables.outbox.c.message)).scalars())
    for secret in SEALED:
        assert secret not in stored and secret not in outbox
    assert "Oldrecord" in stored  # the legacy plaintext event: stored as it was written


def test_only_the_consortium_admin_may_erase(world, client):
    url = f"/api/people/{world['ada']}/erasure"
    for grant in (Grant(COORDINATOR, world["inst"]), Grant(ADMIN, world["inst"])):
        assert client.post(url, headers=auth_headers(grant, user="someone")).status_code == 403
    assert client.post(url).status_code == 401
    missing = client.post("/api/people/nobody/erasure", headers=auth_headers(Grant(ADMIN)))
    assert missing.status_code == 404
    with world["rt"].reading() as conn:
        assert not any(e.event_type == "PersonErased" for _, e in world["rt"].store.read_all(conn))


def test_erasure_keeps_history_and_counts_and_leaves_no_name_anywhere(
    world, client, admin, database
):
    rt = world["rt"]
    others = [(s, _runtime(s, database(s.name))) for s in (PAIRING, NOTIFICATIONS, FEEDBACK)]
    pairing, notifications, _ = (runtime for _, runtime in others)
    before = _stored(rt)
    for service, runtime in others:
        deliver(service, runtime, before)
    assert "Quillfeather" in _texts(pairing.engine)  # readable while the key exists
    assert client.get(f"/api/people/{world['carol']}", headers=admin).json["name"] == LEGACY_NAME
    checkpoint(rt)

    def counts() -> dict[str, dict[str, int]]:
        every = [(ENROLLMENT, rt), *others]
        return {s.name: _counts(runtime, s.stats_tables) for s, runtime in every}

    counted = counts()
    for person in ("ada", "carol"):
        response = client.post(f"/api/people/{world[person]}/erasure", headers=admin)
        assert response.status_code == 200, response.json
        assert response.json["already_erased"] is False and response.json["event_id"]
    assert response.json["key_destroyed"] is False  # Carol's plaintext never had a key
    again = client.post(f"/api/people/{world['ada']}/erasure", headers=admin).json
    assert again["already_erased"] is True and again["event_id"] is None

    # Enrollment, pairing and notifications learn of it from PersonErased, live (feedback keeps
    # its own copy of people, which a rebuild clears).
    erasures = [e for e in _stored(rt) if e.event_type == "PersonErased"]
    assert len(erasures) == 2 and erasures[0].actor["id"] == "admin-1"
    for service, runtime in others:
        deliver(service, runtime, erasures)
    for runtime in (rt, pairing, notifications):
        assert _leaks(runtime) == [], runtime.service.name
    shown = client.get(f"/api/people/{world['ada']}", headers=admin).json
    assert shown["name"] == ERASED and shown["email"].endswith("@erased.invalid")

    # Nothing stored changed: chains, seals and the checkpoint taken before still verify.
    report = verify(rt)
    assert report.ok, report.first_break
    assert report.checkpoints_checked == 1 and report.events_checked == len(before) + 2

    # Rebuilt from the store, and from the events as the topics carry them.
    rebuild_own(rt)
    with rt.engine.connect() as conn:
        wire = [
            Envelope.from_json(m.encode())
            for m in conn.execute(sa.select(rt.service.tables.outbox.c.message)).scalars()
        ]
    for service, runtime in others:
        with runtime.engine.begin() as conn:
            for projection in service.consumers:
                projection.clear(conn)
            conn.execute(service.tables.inbox.delete())
        deliver(service, runtime, wire)
        rebuild_own(runtime)
    for runtime in (rt, *(runtime for _, runtime in others)):
        assert _leaks(runtime) == [], runtime.service.name
    assert "Bob Stays" in _texts(pairing.engine)  # only the erased are gone
    assert counts() == counted
    enrollment = client.get(f"/api/people/{world['ada']}/enrollments", headers=admin).json
    assert enrollment and enrollment[0]["goals"] == ERASED and enrollment[0]["identity"] is None
    assert verify(rt).ok
    for _, runtime in others:
        runtime.engine.dispose()


def test_the_erasure_is_in_the_trail_without_personal_content(world, client, admin):
    rt = world["rt"]
    client.post(f"/api/people/{world['ada']}/erasure", headers=admin)
    deliver(ENROLLMENT, rt, _stored(rt))
    entries = client.get(
        "/api/trail", query_string={"event_type": "PersonErased"}, headers=admin
    ).json["entries"]
    assert [(e["actor_id"], e["actor_role"], e["summary"]) for e in entries] == [
        ("admin-1", "consortium_admin", {"person_id": world["ada"]})
    ]
    assert _leaks(rt) == ["Oldrecord", "carol.oldrecord"]  # Carol was not erased


def test_old_plaintext_events_read_as_written_and_new_events_of_the_erased_hold_nothing(world):
    rt = world["rt"]
    with rt.reading() as conn:
        carol = rt.store.load(conn, Person.stream_id_for(world["carol"]))
    assert carol[0].payload["name"] == LEGACY_NAME and carol[0].erased == ()
    ring = keyring.default()
    assert ring.erase(world["ada"], by="admin-1") is True
    with rt.engine.begin() as conn:
        events = rt.store.load(conn, Person.stream_id_for(world["ada"]))
        assert events[0].payload["name"] == ERASED and "name" in events[0].erased
        person = Person.rehydrate(world["ada"], events)
        rt.store.append(
            conn,
            person.stream_id,
            [NewEvent("PersonUpdated", {"person_id": world["ada"], "name": "Ada Again"})],
            person.version,
            Metadata(world["inst"]),
        )
    stored = [e for e in _stored(rt) if e.stream_id == person.stream_id][-1]
    assert stored.event_type == "PersonUpdated" and stored.payload["name"] == ERASED


def test_a_personal_declaration_reaches_every_reader():
    for registry, name, fields in (
        (ENROLLMENT.registry, "PersonRegistered", ("name", "email", "pronouns")),
        (ENROLLMENT.registry, "ParticipantEnrolled", ("goals", "identity")),
    ):
        assert registry.get(name).personal == Personal("person_id", fields)
    for service in (PAIRING, NOTIFICATIONS):
        assert service.reading_registry().get("PersonRegistered").personal is not None


def test_tandem_erase_erases_by_email_as_a_consortium_admin(
    world, client, admin, database_url, monkeypatch, capsys
):
    from tandem.cli import main

    boss = client.post(
        "/api/people",
        json={"institution_id": world["inst"], "name": "Root Admin", "email": "root@nf.example",
              "training_level": "faculty"},
        headers=admin,
    ).json  # fmt: skip
    granted = client.post(
        f"/api/people/{boss['id']}/roles", json={"role": "consortium_admin"}, headers=admin
    )
    assert granted.status_code == 200, granted.json
    monkeypatch.setenv("ENROLLMENT_DATABASE_URL", database_url)
    assert main(["erase", "--person", EMAIL, "--by", "bob@nf.example"]) == 2  # not an admin
    assert "not a consortium admin" in capsys.readouterr().err
    assert main(["erase", "--person", "nobody@nf.example", "--by", boss["id"]]) == 1
    capsys.readouterr()
    assert main(["erase", "--person", EMAIL.upper(), "--by", "root@nf.example"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["person_id"] == world["ada"] and printed["erased_by"] == boss["id"]
    assert printed["key_destroyed"] is True and printed["event_id"]
    shown = client.get(f"/api/people/{world['ada']}", headers=admin).json
    assert shown["name"] == ERASED
    erased = [e for e in _stored(world["rt"]) if e.event_type == "PersonErased"]
    assert [e.actor for e in erased] == [{"id": boss["id"], "role": "consortium_admin"}]


@pytest.mark.kafka
def test_the_topic_carries_ciphertext_and_a_rebuild_from_it_shows_only_placeholders(
    topic_prefix, kafka_bootstrap, world, client, admin, database
):
    rt = world["rt"]
    ensure_topics(kafka_bootstrap, sorted({rt.store.topic, *PAIRING.topics()}))
    publisher = KafkaPublisher(kafka_bootstrap)
    relay = Relay(rt.engine, rt.service.tables, publisher, name=rt.store.topic)
    pairing = _runtime(PAIRING, database("pairing"))
    try:
        published = relay.drain()
        on_topic = "\n".join(
            r.value.decode() for r in read_topic(kafka_bootstrap, rt.store.topic, published)
        )
        assert [s for s in SEALED if s in on_topic] == [] and "pii1:" in on_topic
        rebuild_from_topics(pairing, kafka_bootstrap)
        assert "Quillfeather" in _texts(pairing.engine)  # opened with the key, while it exists
        counts = _counts(pairing, PAIRING.stats_tables)

        assert client.post(f"/api/people/{world['ada']}/erasure", headers=admin).status_code == 200
        relay.drain()
        rebuild_from_topics(pairing, kafka_bootstrap)
        rebuilt = _texts(pairing.engine)
        assert [s for s in SEALED if s in rebuilt] == [] and "Bob Stays" in rebuilt
        assert _counts(pairing, PAIRING.stats_tables) == counts
    finally:
        publisher.close()
        pairing.engine.dispose()
