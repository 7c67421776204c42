"""The Flask side every service API shares: app factory, authentication, errors, health."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import marshmallow as ma
import sqlalchemy as sa
from flask import Flask, g, jsonify, request
from flask_smorest import Api, Blueprint

from . import config, http_observe, rls
from .access import consortium, guard
from .aggregate import DomainError, NotFound
from .audit import audit_blueprint
from .auth import InvalidToken, TokenSigner
from .bus import broker_reachable
from .context import principal as principal  # routes import it from here too
from .context import request_meta as request_meta  # routes import it from here too
from .context import runtime
from .db import ping
from .inputs import install_input_checks
from .operations_api import operations_blueprint
from .service import Runtime, Service
from .store import ConcurrencyError

log = logging.getLogger(__name__)

PUBLIC_ENDPOINTS = {"healthz", "readyz", "metrics", "api-docs.openapi_json", "static"}


def create_service_app(service: Service, database_url: str | None = None) -> Flask:
    # root_path given: a test package named like the service must not be taken for it.
    app = Flask(service.name, root_path=str(Path(__file__).parent))
    app.config.update(
        API_TITLE=service.title or f"Tandem {service.name}",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
                }
            },
            "security": [{"bearer": []}],
        },
    )
    runtime = Runtime(service, database_url)
    app.extensions["tandem"] = runtime
    app.extensions["tandem.signer"] = TokenSigner(config.token_key(), config.token_ttl_seconds())
    # First: every request is timed, counted and logged.
    http_observe.install(app, service.name, lambda: g.get("principal"))
    api = Api(app)
    install_input_checks(app, api)  # before the blueprints, so their OpenAPI lists the errors
    for blueprint in service.blueprints():
        api.register_blueprint(blueprint)
    api.register_blueprint(_stats_blueprint(service))
    api.register_blueprint(audit_blueprint(service))
    api.register_blueprint(operations_blueprint(service))
    _install_auth(app)
    _install_errors(app)
    _install_health(app, runtime)
    return app


class StatsOut(ma.Schema):
    service = ma.fields.String()
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())


def _stats_blueprint(service: Service) -> Blueprint:
    """Row counts of the read models across the consortium, for its admin and the status page."""
    blp = Blueprint("stats", __name__, url_prefix="/api", description="Operations")

    @blp.route("/stats", methods=["GET"])
    @guard("consortium.operate", consortium)
    @blp.response(200, StatsOut)
    def stats():
        with runtime().reading() as conn:
            counts = {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in service.stats_tables
            }
        return {"service": service.name, "counts": counts}

    return blp


def _install_auth(app: Flask) -> None:
    signer: TokenSigner = app.extensions["tandem.signer"]

    app.teardown_request(lambda _exc: rls.reset_scope())  # no scope outlives its request

    @app.before_request
    def authenticate():
        rls.set_scope(rls.DENY)  # row-level security denies until the caller is known
        if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _unauthorized("A bearer token is required.")
        try:
            g.principal = signer.verify(token.strip())
        except InvalidToken as exc:
            return _unauthorized(str(exc))
        rls.set_scope(rls.scope_for(g.principal))
        return None


def _unauthorized(message: str):
    response = jsonify(code=401, status="Unauthorized", message=message)
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer realm="tandem"'
    return response


def _error(status: int, message: str, errors: dict | None = None):
    body = {"code": status, "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    return response


def _install_errors(app: Flask) -> None:
    @app.errorhandler(ConcurrencyError)
    def conflict(exc: ConcurrencyError):
        return _error(409, "Someone else changed this at the same time; reload and try again.")

    @app.errorhandler(NotFound)
    def not_found(exc: NotFound):
        return _error(404, exc.message)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        errors = {"json": {exc.field: [exc.message]}} if exc.field else None
        return _error(422, exc.message, errors)

    @app.errorhandler(sa.exc.IntegrityError)
    def integrity(exc: sa.exc.IntegrityError):
        # A uniqueness race the command's own check could not see: nothing was written.
        return _error(409, "This conflicts with something that already exists.")

    @app.errorhandler(ma.ValidationError)
    def invalid(exc: ma.ValidationError):
        return _error(422, "The request is not valid.", {"json": exc.messages})


def _install_health(app: Flask, rt: Runtime) -> None:
    cache: dict[str, tuple[float, bool]] = {}

    @app.get("/healthz")
    def healthz():
        return {"status": "alive", "service": rt.service.name}

    @app.get("/readyz")
    def readyz():
        checks = {"database": _check(lambda: ping(rt.engine)), "broker": _broker_ok(cache)}
        status = 200 if all(checks.values()) else 503
        return {"ready": status == 200, "checks": checks}, status


def _check(probe) -> bool:
    try:
        probe()
        return True
    except Exception as exc:
        log.warning("readiness check failed: %r", exc)
        return False


def _broker_ok(cache: dict[str, tuple[float, bool]]) -> bool:
    # Probing the broker opens a connection; a few seconds of caching keeps probes cheap.
    now = time.monotonic()
    at, ok = cache.get("broker", (0.0, False))
    if now - at > 5.0:
        ok = broker_reachable(config.bootstrap_servers())
        cache["broker"] = (now, ok)
    return ok
