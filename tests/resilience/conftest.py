"""One `tandem run` for the resilience suite, on the embedded broker it starts itself, and on
PostgreSQL when TEST_DATABASE_URL is set (SQLite files otherwise)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from harness import SERVICES, Fleet, Load

from services.eventkit.db import normalise_url


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if "resilience" in str(item.fspath):
            item.add_marker(pytest.mark.resilience)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory) -> Iterator[Fleet]:
    workdir = tmp_path_factory.mktemp("resilience")
    urls: dict[str, str] = {}
    admin = None
    configured = os.environ.get("TEST_DATABASE_URL", "").strip()
    if configured:
        server = normalise_url(configured)
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        base = sa.make_url(server)
        for name in ("web", *SERVICES):
            database = f"{base.database}_res_{name}_{uuid.uuid4().hex[:6]}"[:63]
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
            urls[name] = base.set(database=database).render_as_string(hide_password=False)
    running = Fleet(workdir, urls)
    try:
        running.start()
        yield running
    finally:
        running.stop()
        if os.environ.get("RESILIENCE_LOGS"):
            print(running.live.logs())
        if admin is not None:
            with admin.connect() as conn:
                for url in urls.values():
                    name = sa.make_url(url).database
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


@pytest.fixture(scope="module")
def load(fleet: Fleet) -> Iterator[Load]:
    """Commands flowing for the whole module: people registered at one institution."""
    institution = fleet.live.ok(
        "enrollment",
        "POST",
        "/api/institutions",
        {"name": "Resilience General", "short_code": "RESIL", "time_zone": "UTC"},
    )
    running = Load(fleet, institution["id"])
    running.start()
    yield running
    running.halt.set()
    running.join(15)
