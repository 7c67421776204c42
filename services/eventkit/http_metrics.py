"""Counting each Flask request into the metrics, and the `/metrics` endpoint, for every
service API and the web alike."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request

from . import metrics

ENDPOINT = "metrics"


def install(app: Flask, process: str) -> None:
    """Time every request by its route rule; serve `/metrics` to the scraper (see metrics.py)."""

    @app.before_request
    def _started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observed(response: Response) -> Response:
        started = g.get("metrics_started")
        if started is not None and request.endpoint != ENDPOINT:
            rule = request.url_rule.rule if request.url_rule is not None else None
            elapsed = time.perf_counter() - started
            metrics.observe_request(process, rule, request.method, response.status_code, elapsed)
        return response

    def scrape() -> Response:
        if not metrics.scrape_allowed(request.remote_addr, request.headers.get("Authorization")):
            return Response("metrics are for the scraper\n", 403, mimetype="text/plain")
        response = Response(metrics.exposition(), mimetype=None)
        response.headers["Content-Type"] = metrics.CONTENT_TYPE
        response.headers["Cache-Control"] = "no-store"
        return response

    app.add_url_rule("/metrics", ENDPOINT, scrape, methods=["GET"])
