"""Row-level security on PostgreSQL: a query that forgets its institution filter, run through a
service's runtime under a scope for institution A, returns nothing of institution B.

Every table of every service is filled with one row per institution: each value names its
institution (`…-inst-a`, `…-inst-b`) and ids line up across tables, so the policies' joins
(a meeting's pair, a pair's cycle, an answer's survey) find their rows.
"""

from __future__ import annotations

import datetime as dt
import importlib
import uuid

import pytest
import sqlalchemy as sa

from services.eventkit import config, rls
from services.eventkit.auth import COORDINATOR, MENTEE, MENTOR, Grant, Principal
from services.eventkit.db import make_engine
from services.eventkit.migrations import upgrade
from services.eventkit.service import Runtime

pytestmark = pytest.mark.postgres

A, B = "inst-a", "inst-b"
# Tables that name an institution yet stay readable: the directory the service layer authorises
# from (see each service's row-level security migration).
DIRECTORY = {"cycles", "programs", "institutions"}
# Tables only workers (unrestricted) see.
WORKER_ONLY = {
    "outbox",
    "snapshots",  # aggregates' saved state: commands load it unrestricted
    "waiting",
    "private_bodies",
    "survey_reminders",
    "meeting_reminders",
    "pair_watch",
    "trail_links",
}
# Tables of one row the migration writes, with no institution: a count (see eventkit/revision.py).
COUNTERS = {"revision"}
# What an `…_id` column (or a table's own `id`) refers to, where the name does not say it.
REFERS_TO = {
    "mentee": "person",
    "mentor": "person",
    "recipient": "person",
    "coach": "person",
    "other_person": "person",
    "viewer": "person",
    "group": "pair",
}
TABLE_ID = {
    "people": "person",
    "recipients": "person",
    "cycles": "cycle",
    "programs": "program",
    "enrollments": "enrollment",
    "institutions": "institution",
}


def _value(table: sa.Table, column: sa.Column, inst: str):
    if column.name == "institution_id":
        return inst
    if column.name == "member_ids":
        return [f"person-{inst}"]
    kind = column.type
    if isinstance(kind, sa.JSON):
        return []
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer | sa.Float | sa.Numeric):
        return {A: 1, B: 2}[inst]  # unique ones too (the store-wide sequence)
    if isinstance(kind, sa.DateTime):
        return dt.datetime.now(dt.UTC)
    if isinstance(kind, sa.Date):
        return dt.date.today()
    if isinstance(kind, sa.LargeBinary):
        return f"{column.name}-{inst}".encode()
    if column.name == "id":
        return f"{TABLE_ID.get(table.name, table.name)}-{inst}"
    if column.name.endswith("_id"):
        base = column.name[:-3]
        return f"{REFERS_TO.get(base, base)}-{inst}"
    return f"{column.name}-{inst}"[: getattr(kind, "length", None) or 200]


def _row(table: sa.Table, inst: str) -> dict:
    return {
        c.name: _value(table, c, inst)
        for c in table.columns
        if not (c.primary_key and c.autoincrement is True and isinstance(c.type, sa.Integer))
    }


def _service(name: str):
    return importlib.import_module(f"services.{name}.service").SERVICE


def _protected(conn: sa.Connection) -> set[str]:
    rows = conn.execute(
        sa.text(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relrowsecurity"
            " AND relforcerowsecurity AND relnamespace = 'public'::regnamespace"
        )
    )
    return {r.relname for r in rows}


def _fill(service, url: str) -> None:
    """One row of each institution in every table, written as the owner (unrestricted)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for table in service.metadata.sorted_tables:
            if table.name not in COUNTERS:
                conn.execute(table.insert(), [_row(table, A), _row(table, B)])
    engine.dispose()


def _select_all(rt: Runtime, scope: rls.AccessScope, table: str) -> list[dict]:
    with rls.scoped(scope), rt.reading() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]


@pytest.fixture(params=config.SERVICES)
def filled(request, pg_database_factory):
    """A migrated, filled database of one service, and its runtime (as the app role)."""
    service = _service(request.param)
    url = pg_database_factory("rls")
    upgrade(service.migrations, url)
    _fill(service, url)
    rt = Runtime(service, url)
    yield service, rt
    rt.engine.dispose()


def test_an_unfiltered_query_sees_only_the_scoped_institution(filled):
    service, rt = filled
    with rt.reading() as conn:
        protected = _protected(conn)
    with_institution = {t.name for t in service.metadata.sorted_tables if "institution_id" in t.c}
    assert with_institution - DIRECTORY <= protected, "a table naming an institution is open"
    assert "events" in protected and "outbox" in protected

    scope_a = rls.AccessScope("someone-of-a", frozenset({A}))
    for table in sorted(protected):
        everything = _select_all(rt, rls.UNRESTRICTED, table)
        assert any(B in repr(r) for r in everything) and any(A in repr(r) for r in everything)
        seen = _select_all(rt, scope_a, table)
        assert not [r for r in seen if B in repr(r)], f"{table} shows institution B to A"
        if table in WORKER_ONLY:
            assert seen == [], f"{table} is the worker's alone"
        elif table != "survey_answers":
            assert seen, f"{table} hides institution A's own row from A"
        assert _select_all(rt, rls.DENY, table) == [], f"{table} is open without a scope"


def test_the_runtime_is_neither_owner_nor_superuser(filled):
    _, rt = filled
    with rt.reading() as conn:
        me = conn.execute(
            sa.text(
                "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles"
                " WHERE rolname = current_user"
            )
        ).one()
        owners = {
            r.tableowner
            for r in conn.execute(
                sa.text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")
            )
        }
    assert me.name == rls.app_role()
    assert not me.rolsuper and not me.rolbypassrls
    assert me.name not in owners


def test_a_stream_head_counts_events_the_scope_cannot_see(filled):
    """An append for institution A is not misled by B's events in the same stream."""
    service, rt = filled
    with rt.engine.begin() as conn:  # B's event lands in A's stream (as for a cross-site pair)
        row = _row(service.tables.events, B) | {
            "event_id": "shared-1",
            "seq": 3,
            "stream_id": "shared",
            "stream_version": 1,
        }
        conn.execute(service.tables.events.insert(), [row])
    with rls.scoped(rls.AccessScope("someone-of-a", frozenset({A}))), rt.engine.begin() as conn:
        visible = conn.execute(sa.text("SELECT count(*) FROM events WHERE stream_id = 'shared'"))
        assert visible.scalar_one() == 0
        assert rt.store.stream_head(conn, "shared")[0] == 1
        # ...and the scope is narrow again afterwards, in the same transaction.
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == 1


@pytest.mark.parametrize("name", ["pairing", "feedback"])
def test_a_cross_institution_pair_is_seen_by_its_members_only(name, pg_database_factory):
    """A pair of institution A's cycle with a mentee from B: the mentee (scoped to B) sees it,
    its meetings and objectives; another person of B does not."""
    service = _service(name)
    url = pg_database_factory("rls")
    upgrade(service.migrations, url)
    _fill(service, url)
    engine = make_engine(url)
    cross = {"pair_id": "pair-cross", "mentee_id": "mentee-of-b", "mentor_id": f"person-{A}"}
    with engine.begin() as conn:
        pairs = service.metadata.tables["pairs"]
        conn.execute(pairs.insert(), [_row(pairs, A) | cross])
        if name == "feedback":
            for table in ("meetings", "objectives"):
                t = service.metadata.tables[table]
                key = {"meetings": "meeting_id", "objectives": "objective_id"}[table]
                conn.execute(t.insert(), [_row(t, A) | {"pair_id": "pair-cross", key: "cross"}])
            groups = service.metadata.tables["coaching_groups"]
            conn.execute(
                groups.insert(),
                [_row(groups, A) | {"group_id": "group-cross", "member_ids": ["mentee-of-b"]}],
            )
    engine.dispose()
    rt = Runtime(service, url)
    try:
        member = rls.scope_for(Principal("mentee-of-b", (Grant(MENTEE, B),)))
        stranger = rls.scope_for(Principal("stranger-of-b", (Grant(COORDINATOR, B),)))
        tables = ["pairs"] + (["meetings", "objectives", "coaching_groups"] * (name == "feedback"))
        for table in tables:
            mine = _select_all(rt, member, table)
            assert any("cross" in repr(r) for r in mine), table
            assert not [r for r in mine if A in repr(r) and "cross" not in repr(r)], table
            assert not [r for r in _select_all(rt, stranger, table) if "cross" in repr(r)], table
    finally:
        rt.engine.dispose()


def test_an_owner_without_createrole_still_meets_the_policies(pg_server_url, monkeypatch):
    """Where the database's owner may not create roles (CloudNativePG, the compose file), the
    migrations leave the role out and the services run as the owner: the policies are forced,
    so they hold for it too. Once someone who may creates the role, the next migrate grants it
    the tables and the services switch to it."""
    suffix = uuid.uuid4().hex[:8]
    owner, database, role = f"rls_owner_{suffix}", f"rls_owned_{suffix}", f"rls_later_{suffix}"
    monkeypatch.setenv("TANDEM_DB_APP_ROLE", role)
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE ROLE "{owner}" LOGIN NOCREATEROLE'))
        conn.execute(sa.text(f'CREATE DATABASE "{database}" OWNER "{owner}"'))
    url = sa.make_url(pg_server_url).set(username=owner, password=None, database=database)
    url = url.render_as_string(hide_password=False)
    service = _service("feedback")
    try:
        upgrade(service.migrations, url)
        _fill(service, url)
        rt = Runtime(service, url)
        try:
            with rt.reading() as conn:
                assert conn.execute(sa.text("SELECT current_user")).scalar() == owner
                assert "meetings" in _protected(conn)
            scope_a = rls.AccessScope("someone-of-a", frozenset({A}))
            for table in ("meetings", "participants", "events"):
                seen = _select_all(rt, scope_a, table)
                assert seen and not [r for r in seen if B in repr(r)], table
        finally:
            rt.engine.dispose()

        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE ROLE "{role}" NOLOGIN'))
            conn.execute(sa.text(f'GRANT "{role}" TO "{owner}"'))
        upgrade(service.migrations, url)  # at head already: only the grants are refreshed
        rt = Runtime(service, url)
        try:
            with rt.reading() as conn:
                assert conn.execute(sa.text("SELECT current_user")).scalar() == role
            seen = _select_all(rt, rls.AccessScope("someone-of-a", frozenset({A})), "meetings")
            assert seen and not [r for r in seen if B in repr(r)]
        finally:
            rt.engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()


def _cross_site_world(client, admin, enrollment_app, request, database_url, tmp_path):
    """Institution A's cross-institution cycle: a mentor of A paired with a mentee of B, through
    the real APIs (enrollment, a published pairing run, feedback fed with both streams)."""
    from services.feedback.app import create_app as create_feedback_app
    from services.feedback.service import SERVICE as FEEDBACK
    from services.pairing.app import create_app as create_pairing_app
    from services.pairing.service import SERVICE as PAIRING
    from support import auth_headers, deliver

    def post(url, body, status=201):
        response = client.post(url, json=body, headers=admin)
        assert response.status_code == status, response.json
        return response.json

    def db(name: str) -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / name}.db"
        return request.getfixturevalue("pg_database_factory")(name)

    a = post("/api/institutions", {"name": "A", "short_code": "A", "time_zone": "UTC"})["id"]
    b = post("/api/institutions", {"name": "B", "short_code": "B", "time_zone": "UTC"})["id"]
    program = post(
        f"/api/institutions/{a}/programs", {"name": "P", "program_type": "faculty_mentoring"}
    )
    cycle = post(
        f"/api/programs/{program['id']}/cycles", {"name": "Across", "cross_institution": True}
    )["id"]
    people = {}
    for key, inst, level in (("mentor", a, "PGY5"), ("mentee", b, "PGY1"), ("other", b, "PGY1")):
        people[key] = post(
            "/api/people",
            {"institution_id": inst, "name": key, "email": f"{key}@x.org", "training_level": level},
        )["id"]
    post(f"/api/cycles/{cycle}/enrollments", {"person_id": people["mentor"], "role": "mentor", "capacity": 1})  # fmt: skip
    post(f"/api/cycles/{cycle}/enrollments", {"person_id": people["mentee"], "role": "mentee"})
    source = enrollment_app.extensions["tandem"]
    with source.reading() as conn:
        enrollment_events = [e for _, e in source.store.read_all(conn)]

    coordinator_a = auth_headers(Grant(COORDINATOR, a), user="coord-a")
    pairing_url = db("pairing")
    upgrade(PAIRING.migrations, pairing_url)
    pairing = create_pairing_app(pairing_url)
    deliver(PAIRING, pairing.extensions["tandem"], enrollment_events)
    pc = pairing.test_client()
    run = pc.post(f"/api/cycles/{cycle}/runs", json={"algorithm": "stable"}, headers=coordinator_a)
    assert run.status_code == 201, run.json
    [pair] = pc.post(f"/api/cycles/{cycle}/proposal/publish", headers=coordinator_a).json
    with pairing.extensions["tandem"].reading() as conn:
        pairing_events = [e for _, e in pairing.extensions["tandem"].store.read_all(conn)]

    feedback_url = db("feedback")
    upgrade(FEEDBACK.migrations, feedback_url)
    feedback = create_feedback_app(feedback_url)
    deliver(FEEDBACK, feedback.extensions["tandem"], pairing_events, topic="tandem.pairing.v1")
    deliver(FEEDBACK, feedback.extensions["tandem"], enrollment_events)
    return pairing, feedback, pair, people, a, b


def test_a_cross_site_pair_works_for_its_members_and_no_one_else(
    client, admin, enrollment_app, request, database_url, tmp_path
):
    """The same answers on SQLite (service layer alone) and PostgreSQL (with row-level security):
    the mentee of B, even with a token naming only B, sees the pair of A's cycle and logs a
    meeting; A's mentor confirms it; B's coordinator and another person of B are refused."""
    from support import auth_headers

    pairing, feedback, pair, people, a, b = _cross_site_world(
        client, admin, enrollment_app, request, database_url, tmp_path
    )
    c, pc = feedback.test_client(), pairing.test_client()
    mentee = auth_headers(Grant(MENTEE, b), user=people["mentee"])
    mentor = auth_headers(Grant(MENTOR, a), user=people["mentor"])
    coordinator_b = auth_headers(Grant(COORDINATOR, b), user="coord-b")
    other_of_b = auth_headers(Grant(MENTEE, b), user=people["other"])
    try:
        rematch = f"/api/pairs/{pair['pair_id']}/rematch-request"
        assert pc.post(rematch, json={"reason": "r"}, headers=other_of_b).status_code == 403
        end = f"/api/pairs/{pair['pair_id']}/end"
        assert pc.post(end, json={"reason": "r"}, headers=coordinator_b).status_code == 403
        asked = pc.post(rematch, json={"reason": "Different goals"}, headers=mentee)
        assert asked.status_code == 200, asked.json
        assert (asked.json["mentor_name"], asked.json["mentee_name"]) == ("mentor", "mentee")

        [mine] = c.get("/api/me/pairs", headers=mentee).json
        assert mine["pair_id"] == pair["pair_id"] and mine["active"] is True
        assert mine["names"] == {people["mentor"]: "mentor", people["mentee"]: "mentee"}
        url = f"/api/pairs/{pair['pair_id']}/meetings"
        body = {"date": dt.date.today().isoformat(), "duration_minutes": 30, "mode": "virtual"}
        logged = c.post(url, json=body, headers=mentee)
        assert logged.status_code == 201, logged.json
        confirm = f"/api/meetings/{logged.json['meeting_id']}/confirm"
        assert c.post(confirm, headers=mentor).status_code == 200
        assert [m["meeting_id"] for m in c.get(url, headers=mentor).json] == [
            logged.json["meeting_id"]
        ]
        for refused in (coordinator_b, other_of_b):
            assert c.get(url, headers=refused).status_code == 403
            assert c.get(f"/api/meetings/{logged.json['meeting_id']}", headers=refused).status_code == 403  # fmt: skip
            assert c.get("/api/me/pairs", headers=refused).json == []
    finally:
        feedback.extensions["tandem"].engine.dispose()
        pairing.extensions["tandem"].engine.dispose()


@pytest.mark.parametrize("name", config.SERVICES)
def test_the_migration_downgrades_cleanly(name, pg_database_factory):
    from alembic import command

    from services.eventkit.migrations import alembic_config

    service = _service(name)
    url = pg_database_factory("rls")
    upgrade(service.migrations, url)
    before_rls = {"enrollment": "0002"}.get(name, "0004")
    command.downgrade(alembic_config(service.migrations, url), before_rls)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert _protected(conn) == set()
            assert conn.execute(sa.text("SELECT count(*) FROM pg_policies")).scalar_one() == 0
        upgrade(service.migrations, url)
        with engine.connect() as conn:
            assert "events" in _protected(conn)
    finally:
        engine.dispose()


def test_the_migration_creates_the_role_it_names(pg_server_url, pg_database_factory, monkeypatch):
    """A role that does not exist yet is created (NOLOGIN, no superuser) and the runtime uses it."""
    role = f"rls_new_role_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TANDEM_DB_APP_ROLE", role)
    service = _service("enrollment")
    url = pg_database_factory("rls")
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    try:
        upgrade(service.migrations, url)
        upgrade(service.migrations, url)  # again: nothing to do, nothing fails
        rt = Runtime(service, url)
        with rt.reading() as conn:
            assert conn.execute(sa.text("SELECT current_user")).scalar() == role
        rt.engine.dispose()
        with admin.connect() as conn:
            created = conn.execute(
                sa.text("SELECT rolcanlogin, rolsuper FROM pg_roles WHERE rolname = :r"),
                {"r": role},
            ).one()
        assert tuple(created) == (False, False)
    finally:
        with admin.connect() as conn:
            database = sa.make_url(url).database
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def test_a_request_leaves_a_mail_body_only_the_worker_reads(pg_database_factory):
    """Password links: the API (scoped) writes the body, cannot read it back; the worker can."""
    service = _service("notifications")
    url = pg_database_factory("rls")
    upgrade(service.migrations, url)
    rt = Runtime(service, url)
    bodies = service.metadata.tables["private_bodies"]
    try:
        with rls.scoped(rls.AccessScope("system", frozenset({A}))), rt.engine.begin() as conn:
            conn.execute(bodies.insert().values(notification_id="n1", text_body="t", html_body=""))
            assert conn.execute(sa.select(bodies)).all() == []
        everything = _select_all(rt, rls.UNRESTRICTED, "private_bodies")
        assert [r["notification_id"] for r in everything] == ["n1"]
    finally:
        rt.engine.dispose()
