"""Conditional GETs: a large view that rarely changes (a cycle's candidates, its proposal) is
tagged with the service's read revision, and a caller that already holds that answer is told 304
Not Modified before anything is read or serialized. The web asks this way on every page view."""

from __future__ import annotations

from collections.abc import Collection

import sqlalchemy as sa
from flask import g, request
from flask_smorest import Blueprint

from . import revision
from .context import principal, runtime


def revalidate(blp: Blueprint, conn: sa.Connection, reads: Collection[str] | None = None) -> None:
    """Tag this answer with the read revision; answer 304 now if the caller holds it. Call after
    authorizing and before reading the view, on a route decorated with `@blp.etag`. `reads`: the
    projections the view reads (all of the service's unless named), so events that only change
    others (an audit trail) leave its tag alone."""
    if g.get("authorized_as") is None:
        raise RuntimeError("revalidate() before the caller was authorized")
    service = runtime().service
    every = [*service.projections, *service.consumers]
    names = [p.name for p in every] if reads is None else reads
    tag = revision.etag(conn, service.tables, names, request.full_path, principal())
    blp.set_etag(tag)
