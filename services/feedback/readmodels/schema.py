"""The metadata every feedback read model's table is declared on, with the kit's own tables (event
store, outbox, checkpoints), and the row writer the handlers share."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from services.eventkit import define_kit_tables

metadata = sa.MetaData()
kit = define_kit_tables(metadata)


def replace(conn: sa.Connection, table: sa.Table, key: sa.ColumnElement, **values: Any) -> None:
    """Insert or overwrite one row (handlers stay correct if an event is ever applied twice)."""
    conn.execute(table.delete().where(key))
    conn.execute(table.insert().values(**values))
