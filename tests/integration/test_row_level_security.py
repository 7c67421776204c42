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
from services.eventkit.auth import COORDINATOR, MENTEE, Grant, Principal
from services.eventkit.db import make_engine
from services.eventkit.migrations import upgrade
from services.eventkit.service import Runtime

pytestmark = pytest.mark.postgres

A, B = "inst-a", "inst-b"
# Tables that name an institution yet stay readable: the directory the service layer authorises
# from (see each service's row-level security migration).
DIRECTORY = {"cycles", "programs", "institutions"}
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
        return 1
    if isinstance(kind, sa.DateTime):
        return dt.datetime.now(dt.UTC)
    if isinstance(kind, sa.Date):
        return dt.date.today()
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
        if table in ("outbox", "waiting", "private_bodies", "survey_reminders", "pair_watch"):
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
    so they hold for it too."""
    suffix = uuid.uuid4().hex[:8]
    owner, database = f"rls_owner_{suffix}", f"rls_owned_{suffix}"
    monkeypatch.setenv("TANDEM_DB_APP_ROLE", f"rls_missing_{suffix}")
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
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            conn.execute(sa.text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()
