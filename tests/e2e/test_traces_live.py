"""One trace across the suite's processes: a suite of its own exports its spans over OTLP/HTTP
to a collector on loopback (this test's, decoding the protobuf requests). A sign-in on the web
records the access through enrollment's API; enrollment's worker publishes the event to Kafka
and the pairing worker applies it: four processes, one trace id, each span the child of the
one before it."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from live import LiveSuite, seed_admin
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from support import wait_until

pytestmark = [pytest.mark.kafka]


class Collector:
    """An OTLP/HTTP trace receiver: every span it is sent, flattened to a dict."""

    def __init__(self) -> None:
        self.spans: list[dict] = []
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                collector.receive(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()
                self.wfile.write(b"")

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, body: bytes) -> None:
        request = ExportTraceServiceRequest.FromString(body)
        found = []
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope in resource_spans.scope_spans:
                for span in scope.spans:
                    attributes = {a.key: a.value for a in span.attributes}
                    found.append(
                        {
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent": span.parent_span_id.hex() or None,
                            "name": span.name,
                            "process": resource.get("tandem.process"),
                            "service": resource.get("service.name"),
                            "event_type": attributes["tandem.event_type"].string_value
                            if "tandem.event_type" in attributes
                            else None,
                        }
                    )
        with self.lock:
            self.spans.extend(found)

    def trace(self, trace_id: str) -> list[dict]:
        with self.lock:
            return [s for s in self.spans if s["trace_id"] == trace_id]

    def named(self, process: str, name: str) -> list[dict]:
        with self.lock:
            return [s for s in self.spans if s["process"] == process and s["name"] == name]


@pytest.fixture(scope="module")
def traced_suite(kafka_bootstrap: str, tmp_path_factory) -> Iterator[tuple[LiveSuite, Collector]]:
    collector = Collector()
    suite = LiveSuite(tmp_path_factory.mktemp("traced"), kafka_bootstrap, {})
    for name in [n for n in suite.env if n.endswith("_DATABASE_URL")]:
        del suite.env[name]  # the embedded default: the trace does not depend on the database
    suite.env.update(
        {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }
    )
    suite.start()
    try:
        yield suite, collector
    finally:
        suite.stop()
        collector.server.shutdown()


def test_a_sign_in_is_one_trace_from_the_web_through_kafka_to_another_service(traced_suite):
    suite, collector = traced_suite
    admin = seed_admin(suite)

    suite.browser_session(admin["email"])  # signs in on the web

    (web,) = wait_until(lambda: collector.named("web", "POST /sign-in"), timeout_s=30)
    trace = web["trace_id"]

    def chain() -> list[dict] | None:
        spans = collector.trace(trace)
        by_parent = {s["parent"]: s for s in spans}
        api = [
            s
            for s in spans
            if s["process"] == "enrollment-api" and s["name"] == "POST /api/access-events"
        ]
        if not api:
            return None
        publish = by_parent.get(api[0]["span_id"])
        consume = [
            s
            for s in spans
            if publish and s["parent"] == publish["span_id"] and s["process"] == "pairing-consume"
        ]
        return [web, api[0], publish, consume[0]] if consume else None

    web_span, api, publish, consume = wait_until(chain, timeout_s=60, interval_s=0.5)

    assert api["parent"] == web_span["span_id"]
    assert publish["process"] == "enrollment-consume"
    assert publish["name"].startswith("publish ") and publish["name"].endswith(
        "tandem.enrollment.v1"
    )
    assert consume["name"] == "consume AccessRecorded" and consume["event_type"] == "AccessRecorded"
    assert {s["trace_id"] for s in (web_span, api, publish, consume)} == {trace}
    assert len({s["process"] for s in (web_span, api, publish, consume)}) == 4
    assert web_span["parent"] is None and web_span["service"] == "tandem-web"
