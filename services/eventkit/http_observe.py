"""What every service API and the web note of each request: its metrics (by route rule) and one
JSON log line with the request id, correlation id, institution and actor; and `/metrics`."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask, Response, g, request

from . import logs, metrics, tracing
from .auth import Principal
from .envelope import new_id

ENDPOINT = "metrics"
QUIET_ENDPOINTS = {ENDPOINT, "healthz", "readyz", "web.healthz", "web.readyz", "static"}

log = logging.getLogger("tandem.request")


def institutions(principal: Principal) -> str:
    """The institutions the caller acts for, by id ("consortium" for a consortium-wide grant)."""
    ids = {g.institution_id or "consortium" for g in principal.grants}
    return ",".join(sorted(ids))


def install(app: Flask, process: str, caller: Callable[[], Principal | None]) -> None:
    """Count and log every request; `caller` names who asked, once authentication has run."""

    @app.before_request
    def _started() -> None:
        g.observe_started = time.perf_counter()
        g.request_id = logs.safe_id(request.headers.get("X-Request-ID")) or new_id()
        g.log_token = logs.bind(
            request_id=g.request_id,
            correlation_id=logs.safe_id(request.headers.get("X-Correlation-ID")),
        )
        if request.endpoint not in QUIET_ENDPOINTS:
            rule = request.url_rule.rule if request.url_rule is not None else None
            g.trace = tracing.request_span(
                request.method, metrics.route_label(rule), request.headers
            )

    @app.after_request
    def _observed(response: Response) -> Response:
        started = g.get("observe_started")
        if started is None or request.endpoint == ENDPOINT:
            return response
        elapsed = time.perf_counter() - started
        rule = request.url_rule.rule if request.url_rule is not None else None
        metrics.observe_request(process, rule, request.method, response.status_code, elapsed)
        response.headers["X-Request-ID"] = g.request_id
        g.trace_status = response.status_code
        if request.endpoint not in QUIET_ENDPOINTS:
            who = caller()
            fields = {
                "method": metrics.method_label(request.method),
                "route": metrics.route_label(rule),
                "status": response.status_code,
                "ms": round(elapsed * 1000, 1),
            }
            if who is not None:
                fields |= {"actor": who.user_id, "institution": institutions(who)}
            log.info("%s %s %s", fields["method"], fields["route"], response.status_code,
                     extra={"fields": fields})  # fmt: skip
        return response

    @app.teardown_request
    def _done(_exc: BaseException | None) -> None:
        logs.reset(g.pop("log_token", None))
        tracing.end(g.pop("trace", None), g.pop("trace_status", None))

    def scrape() -> Response:
        if not metrics.scrape_allowed(request.remote_addr, request.headers.get("Authorization")):
            return Response("metrics are for the scraper\n", 403, mimetype="text/plain")
        response = Response(metrics.exposition(), mimetype=None)
        response.headers["Content-Type"] = metrics.CONTENT_TYPE
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_url_rule("/metrics", ENDPOINT, scrape, methods=["GET"])
