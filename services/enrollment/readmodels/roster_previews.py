"""Previewed roster files, kept until the coordinator confirms one: confirming applies exactly
the bytes that were previewed (found by their SHA-256)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from services.eventkit.envelope import utcnow

from .tables import roster_previews

KEPT_FOR = dt.timedelta(days=2)


def keep(conn: sa.Connection, cycle_id: str, institution_id: str, sha256: str, data: bytes) -> None:
    """Keep the file (once per content), and let previews older than KEPT_FOR go."""
    r = roster_previews
    now = utcnow()
    conn.execute(r.delete().where(r.c.created_at < now - KEPT_FOR))
    conn.execute(r.delete().where((r.c.cycle_id == cycle_id) & (r.c.file_sha256 == sha256)))
    conn.execute(
        r.insert().values(
            cycle_id=cycle_id, file_sha256=sha256, institution_id=institution_id, content=data,
            created_at=now,
        )
    )  # fmt: skip


def previewed(conn: sa.Connection, cycle_id: str, sha256: str) -> bytes | None:
    r = roster_previews
    found = conn.execute(
        sa.select(r.c.content).where((r.c.cycle_id == cycle_id) & (r.c.file_sha256 == sha256))
    ).first()
    return None if found is None else bytes(found.content)


def forget(conn: sa.Connection, cycle_id: str, sha256: str) -> None:
    r = roster_previews
    conn.execute(r.delete().where((r.c.cycle_id == cycle_id) & (r.c.file_sha256 == sha256)))
