"""Engines for PostgreSQL (production, CI) and SQLite (the embedded default)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from . import json_codec, rls
from .aggregate import NotFound


def normalise_url(url: str) -> str:
    """Accept plain postgres URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs) -> sa.Engine:
    url = normalise_url(url)
    # A failed statement's error names the statement, never its values (which may be personal).
    kwargs.setdefault("hide_parameters", True)
    kwargs.setdefault("json_deserializer", json_codec.loads)
    if url.startswith("sqlite"):
        return _sqlite_engine(url, **kwargs)
    engine = sa.create_engine(url, pool_pre_ping=True, **kwargs)
    rls.install(engine)  # every transaction states whose rows it may see
    return engine


def _sqlite_engine(url: str, **kwargs) -> sa.Engine:
    database = sa.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"timeout": 30}, **kwargs)

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Take the write lock at BEGIN, so two processes never deadlock upgrading a read lock.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Reads (see `reading`) use a plain BEGIN so WAL lets them run beside a writer.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


READ_ONLY = "tandem_read_only"


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection for reads only: on SQLite it does not take the write lock."""
    return engine.connect().execution_options(**{READ_ONLY: True})


def is_postgres(engine: sa.Engine) -> bool:
    return engine.dialect.name == "postgresql"


def ping(engine: sa.Engine) -> None:
    with reading(engine) as conn:
        conn.execute(sa.text("SELECT 1"))


def one(conn: sa.Connection, table: sa.Table, what: str, **where: object) -> sa.RowMapping:
    """The row of `table` matching `where` (column=value), or NotFound("No such <what>.")."""
    query = sa.select(table).where(*(table.c[name] == value for name, value in where.items()))
    found = conn.execute(query).mappings().first()
    if found is None:
        raise NotFound(f"No such {what}.")
    return found
