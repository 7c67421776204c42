"""A service's read revision: a value that changes whenever a committed transaction changes what
a view reads, for conditional GETs (ETag / If-None-Match) of large, rarely changing views.

Read models change in two ways only: a command's append (its projections run in the append's
transaction) and the consumer applying other services' events. The first moves the store-wide
sequence, which appends take in commit order (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on
SQLite); the second bumps the `revision` row of each projection it changed, as the last writes of
its transaction, whose row locks order those commits too. Rebuilding a projection bumps its row as
well. So a revision read before a view's rows never names rows older than it, and any later
change to what the view reads yields another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from importlib import metadata

import sqlalchemy as sa

from . import rls
from .auth import Principal
from .tables import KitTables


def _code_version() -> str:
    # A new release may shape the same rows differently: its ETags differ from the old one's.
    try:
        return metadata.version("tandem")
    except metadata.PackageNotFoundError:
        return "0"


CODE_VERSION = _code_version()


def bump(conn: sa.Connection, tables: KitTables, projections: Collection[str]) -> None:
    """Count one change to each of these projections, last in the writer's transaction (in one
    order, so two consumers never wait on each other's rows crosswise)."""
    table = tables.revision
    for name in sorted(projections):
        bumped = conn.execute(
            table.update().where(table.c.projection == name).values(applied=table.c.applied + 1)
        ).rowcount
        if not bumped:  # its first change
            conn.execute(table.insert().values(projection=name, applied=1))


def current(conn: sa.Connection, tables: KitTables, projections: Collection[str]) -> str:
    """The revision of what reads these projections (and the store's own events), as of this
    connection's view: over every institution's events, since a view may show rows
    whose events another institution holds (a cross-site pair)."""
    events, table = tables.events, tables.revision
    with rls.unrestricted(conn):
        seq = conn.execute(sa.select(sa.func.max(events.c.seq))).scalar() or 0
        counts = dict(
            conn.execute(
                sa.select(table.c.projection, table.c.applied).where(
                    table.c.projection.in_(sorted(projections))
                )
            ).all()
        )
    return ".".join([str(seq), *(f"{name}={counts.get(name, 0)}" for name in sorted(projections))])


def etag(
    conn: sa.Connection,
    tables: KitTables,
    projections: Collection[str],
    view: str,
    principal: Principal | None,
) -> str:
    """The ETag of one view as one caller sees it: the revision, the release, the view with its
    arguments and who asks (a view may filter rows by the caller's roles)."""
    who = repr((principal.user_id, principal.grants)) if principal else "-"
    parts = (CODE_VERSION, current(conn, tables, projections), view, who)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]
