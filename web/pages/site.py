"""The site's own pages and endpoints (the `web` blueprint): the landing page, the suite's status
page, liveness and readiness, and the vendored htmx; and what every template is given."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
from importlib import resources
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, make_response, render_template, request, url_for
from jinja2_fragments.flask import render_block

from services.eventkit.db import reading

from .. import client, db, identity, navigation, suite_status
from ..calls import can
from ..identity import STAFF, roles_required
from ..rendering import htmx, private

ONE_YEAR_S = 365 * 24 * 3600
ONE_DAY_S = 24 * 3600

HTMX_PACKAGE = "js_lib_htmx"
HTMX_RESOURCE = "static/htmx/htmx.min.js"
HTMX_JS_KEY = "tandem.htmx_js"
FAVICON_KEY = "tandem.favicon"

log = logging.getLogger(__name__)

bp = Blueprint("web", __name__)


@dataclasses.dataclass(frozen=True)
class Asset:
    body: bytes
    digest: str


def load_htmx() -> Asset:
    # Served from the installed package so the version is pinned with the other dependencies.
    body = (resources.files(HTMX_PACKAGE) / HTMX_RESOURCE).read_bytes()
    return Asset(body=body, digest=hashlib.sha256(body).hexdigest()[:16])


@bp.app_context_processor
def _asset_urls() -> dict[str, Any]:
    # The digest in the URL lets browsers cache htmx for a year and still see upgrades.
    digest = current_app.extensions[HTMX_JS_KEY].digest
    return {
        "htmx_js_url": url_for("web.htmx_js", v=digest),
        "current_user": identity.current_user(),
        "nav_links": navigation.nav_links(identity.current_user()),
        "can": can,
    }


@bp.get("/")
def index() -> str:
    return render_template("index.html")


@bp.get("/status")
@roles_required(*STAFF)
def status() -> Response:
    # Consortium-wide counts are the consortium admin's: for anyone else they are not fetched.
    statuses = suite_status.statuses(client.current(), with_counts=can("consortium.operate"))
    context = {
        "statuses": statuses,
        "ready_count": sum(s.ready for s in statuses),
        "checked_at": dt.datetime.now(dt.UTC).replace(microsecond=0),
        "workers": suite_status.worker_health(client.current()),
        "processes": suite_status.processes(),
    }
    # htmx polls for the table alone; a history restore needs the whole page back.
    if htmx and not htmx.history_restore_request:
        body = render_block("status.html", "status_table", **context)
    else:
        body = render_template("status.html", **context)
    response = private(make_response(body))
    response.vary.add("HX-Request")
    return response


@bp.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "alive", "service": "web"}


@bp.get("/readyz")
def readyz() -> tuple[dict[str, Any], int]:
    checks = {"database": _database_ready(), **suite_status.alive(client.current())}
    ready = all(checks.values())
    return {"ready": ready, "service": "web", "checks": checks}, 200 if ready else 503


def _database_ready() -> bool:
    """The web's database answers and is migrated (its accounts table is there)."""
    try:
        with reading(current_app.extensions[db.ENGINE_KEY]) as conn:
            conn.execute(sa.select(sa.func.count()).select_from(db.accounts)).scalar_one()
    except sa.exc.SQLAlchemyError as exc:
        log.warning("web database not ready: %s", exc)
        return False
    return True


@bp.get("/favicon.ico")
def favicon() -> Response:
    response = Response(current_app.extensions[FAVICON_KEY], mimetype="image/vnd.microsoft.icon")
    response.cache_control.public = True
    response.cache_control.max_age = ONE_DAY_S
    return response


@bp.get("/static/vendor/htmx.min.js")
def htmx_js() -> Response:
    asset: Asset = current_app.extensions[HTMX_JS_KEY]
    response = Response(asset.body, mimetype="text/javascript")
    response.set_etag(asset.digest)
    response.cache_control.public = True
    if request.args.get("v") == asset.digest:
        response.cache_control.max_age = ONE_YEAR_S
        response.cache_control.immutable = True
    else:
        response.cache_control.max_age = ONE_DAY_S
    return response.make_conditional(request)
