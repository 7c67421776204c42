"""Prometheus metrics: what every API, worker and the web counts, and who may read them.

Labels name routes by their rule (`/api/people/<person_id>`), services, event types, topics and
outcomes: never an id, a name, an address or a text, so a scrape holds no personal data.

Reading `/metrics` is allowed from the addresses in TANDEM_METRICS_ALLOW (CIDRs, loopback by
default) or with `Authorization: Bearer $TANDEM_METRICS_TOKEN` when that is set. Under gunicorn
with several workers, PROMETHEUS_MULTIPROC_DIR makes each worker write its numbers to files
that any worker's /metrics adds up (`prepare_multiprocess` sets it before the fork).
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import os
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

from . import config

disable_created_metrics()  # no `_created` twin of every counter: half the lines, nothing lost
CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

HTTP_REQUESTS = Counter(
    "tandem_http_requests_total",
    "HTTP requests answered, by process, route rule, method and status.",
    ["process", "route", "method", "status"],
)
HTTP_ERRORS = Counter(
    "tandem_http_request_errors_total",
    "HTTP requests that ended in a server error (5xx), by process and route rule.",
    ["process", "route", "method"],
)
HTTP_LATENCY = Histogram(
    "tandem_http_request_duration_seconds",
    "Time to answer an HTTP request, by process and route rule.",
    ["process", "route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
RELAYED = Counter(
    "tandem_relay_rows_total",
    "Outbox rows the relay settled, by outcome: published; parked (refused for good); "
    "failed (broker away, queued again).",
    ["outcome"],
)
DEAD_LETTERED = Counter(
    "tandem_dead_lettered_total",
    "Consumed messages written to the dead-letter topic, by the topic they came from.",
    ["topic"],
)
EMAILS = Counter(
    "tandem_emails_total",
    "Email deliveries by outcome: sent; retried (an attempt failed, another follows); "
    "failed (given up).",
    ["kind", "outcome"],
)
PAIRING_RUN = Histogram(
    "tandem_pairing_run_seconds",
    "Time the matching engine took for one pairing run, by algorithm.",
    ["algorithm"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0),
)


def route_label(rule: str | None) -> str:
    """The route's rule, or one label for every address no route matched (a scan of random
    paths must not make a series each)."""
    return rule or "unmatched"


def method_label(method: str) -> str:
    return method if method in KNOWN_METHODS else "other"


def observe_request(process: str, rule: str | None, method: str, status: int, seconds: float):
    route, verb = route_label(rule), method_label(method)
    HTTP_REQUESTS.labels(process, route, verb, str(status)).inc()
    HTTP_LATENCY.labels(process, route, verb).observe(seconds)
    if status >= 500:
        HTTP_ERRORS.labels(process, route, verb).inc()


def timed(histogram: Histogram, label: Callable[..., str]):
    """Decorate a function so each call's duration is observed under `label(*args)`."""

    def wrap(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                histogram.labels(label(*args, **kwargs)).observe(time.perf_counter() - started)

        return call

    return wrap


def exposition(extra: Iterable[Collector] = ()) -> bytes:
    """The text format of this process's metrics (all gunicorn workers' in multi-process
    mode) followed by `extra` collectors, read at scrape time."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    extra = list(extra)
    if extra:
        registry = CollectorRegistry(auto_describe=False)
        for collector in extra:
            registry.register(collector)
        body += generate_latest(registry)
    return body


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    spec = config.env("TANDEM_METRICS_ALLOW", "127.0.0.0/8,::1/128")
    return [ipaddress.ip_network(c.strip(), strict=False) for c in spec.split(",") if c.strip()]


def scrape_allowed(remote_addr: str | None, authorization: str | None) -> bool:
    """A scraper may read /metrics with the bearer token (when one is set) or from an allowed
    network."""
    token = os.environ.get("TANDEM_METRICS_TOKEN", "").strip()
    scheme, _, given = (authorization or "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), token):
        return True
    try:
        address = ipaddress.ip_address((remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in _allowed_networks())


def prepare_multiprocess(process: str, workers: int) -> dict[str, Any]:
    """Before gunicorn forks several workers: a fresh directory for their metric files, and
    the gunicorn hook that forgets a worker's gauges when it exits. Returns gunicorn options."""
    if workers <= 1 and not os.environ.get(MULTIPROC_ENV):
        return {}
    if not os.environ.get(MULTIPROC_ENV):
        path = config.var_dir() / "metrics" / process
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        os.environ[MULTIPROC_ENV] = str(path)
        _use_multiprocess_values()
    Path(os.environ[MULTIPROC_ENV]).mkdir(parents=True, exist_ok=True)
    return {"child_exit": lambda _server, worker: multiprocess.mark_process_dead(worker.pid)}


def _use_multiprocess_values() -> None:
    # The value class is chosen when prometheus_client is imported: choose again, so the
    # series made from now on (every labelled one is made on first use) write to files.
    from prometheus_client import values

    values.ValueClass = values.get_value_class()
