"""Fresh databases for a benchmark run: SQLite files, or PostgreSQL databases dropped afterwards."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import sqlalchemy as sa

from services.eventkit.db import normalise_url


def postgres_server() -> str:
    server = os.environ.get("BENCH_DATABASE_URL", "").strip()
    server = server or os.environ.get("TEST_DATABASE_URL", "").strip()
    if not server:
        raise SystemExit("--database postgres needs BENCH_DATABASE_URL or TEST_DATABASE_URL")
    return normalise_url(server)


@contextlib.contextmanager
def databases(kind: str, workdir: Path, names: Sequence[str]) -> Iterator[dict[str, str]]:
    """A fresh, empty database per name: SQLite files in workdir, or PostgreSQL databases that are
    dropped again on the way out."""
    if kind == "sqlite":
        yield {name: f"sqlite:///{workdir / name}.db" for name in names}
        return
    base = sa.make_url(postgres_server())
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    created: list[str] = []
    try:
        urls: dict[str, str] = {}
        for name in names:
            database = f"{base.database or 'tandem'}_bench_{name}_{uuid.uuid4().hex[:8]}"[:63]
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
            created.append(database)
            urls[name] = base.set(database=database).render_as_string(hide_password=False)
        yield urls
    finally:
        with admin.connect() as conn:
            for database in created:
                # FORCE: a pooled connection left behind by a failed run must not keep it alive.
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
