"""Tracing is off unless OTEL_TRACES_EXPORTER names an exporter: then the hooks do nothing and
the OpenTelemetry SDK is not even imported."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from services.eventkit import tracing
from services.eventkit.bus import Message

assert not tracing.enabled()
assert tracing.current_traceparent() is None and tracing.outgoing_headers() == {}
assert tracing.request_span("GET", "/api/people", {}) is None
with tracing.span("x"), tracing.consuming(Message("t", 0, 0, None, None), None):
    pass
kept = "00-" + "1" * 32 + "-" + "2" * 16 + "-01"
assert tracing.publishing(kept, "t") == (None, [("traceparent", kept.encode())])
assert tracing.publishing(None, "t") == (None, [])
assert not any(m.startswith("opentelemetry") for m in sys.modules), sorted(sys.modules)
"""


def test_off_by_default_costs_nothing_and_passes_a_kept_context_on():
    env = {"PATH": "/usr/bin:/bin", "OTEL_TRACES_EXPORTER": "none"}
    result = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                            text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_a_console_exporter_writes_the_spans(monkeypatch, capsys):
    from services.eventkit import tracing

    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console")
    assert tracing.enabled()
    with tracing.span("outer"):
        inner = tracing.current_traceparent()
        assert inner is not None and inner.startswith("00-")
        assert tracing.outgoing_headers() == {"traceparent": inner}
    started, headers = tracing.publishing(inner, "tandem.enrollment.v1")
    tracing.finish(started)
    tracing.shutdown()  # the console exporter writes the spans now, to the captured stdout
    assert '"name": "publish tandem.enrollment.v1"' in capsys.readouterr().out
    ((name, value),) = headers
    assert name == "traceparent" and value.decode().split("-")[1] == inner.split("-")[1]
    assert tracing.message_parent(headers) == {"traceparent": value.decode()}
