"""OpenTelemetry traces that follow one command across the suite: the web's request, the
service API it calls (W3C `traceparent` header), the event's outbox row (the context kept
beside it), the relay's publish (the context in the Kafka message's headers) and each consumer
that applies it, in another process and service.

Off unless OTEL_TRACES_EXPORTER names an exporter (`otlp`, OTLP over HTTP/protobuf to
OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT; or `console`); spans are
named for the process by OTEL_SERVICE_NAME, else `tandem-<process>`. When off, every hook
here returns at once and the SDK is never imported. Spans carry routes, topics, event types
and ids, never a payload or a person's data.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

TRACEPARENT = "traceparent"
EXPORTERS = ("otlp", "console")

_process = "tandem"
_lock = threading.Lock()
_tracers: dict[int, Any] = {}  # per process id: gunicorn forks after start-up
_providers: dict[int, Any] = {}


def enabled() -> bool:
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() in EXPORTERS


def configure(process: str) -> None:
    """Name this process's spans (the provider itself is made on first use, after any fork)."""
    global _process
    _process = process


def _tracer():
    pid = os.getpid()
    if (tracer := _tracers.get(pid)) is not None:
        return tracer
    with _lock:
        if (tracer := _tracers.get(pid)) is None:
            tracer = _tracers[pid] = _make_tracer()
    return tracer


def _make_tracer():
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME", "").strip() or f"tandem-{_process}"
    provider = TracerProvider(
        resource=Resource.create({"service.name": name, "tandem.process": _process})
    )
    provider.add_span_processor(BatchSpanProcessor(_exporter()))
    atexit.register(shutdown)  # the spans still queued go out as the process ends
    _providers[os.getpid()] = provider
    return provider.get_tracer("tandem")


def shutdown() -> None:
    """Send this process's queued spans and stop its exporter (tracing starts over if used)."""
    provider = _providers.pop(os.getpid(), None)
    _tracers.pop(os.getpid(), None)
    if provider is not None:
        provider.shutdown()


def _exporter():
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _kind(name: str):
    from opentelemetry.trace import SpanKind

    return getattr(SpanKind, name)


def _extract(carrier: Mapping[str, str]):
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract(carrier)


def _inject() -> dict[str, str]:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier


@contextlib.contextmanager
def span(
    name: str,
    kind: str = "INTERNAL",
    parent: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[None]:
    """A span around the block, the current one inside it; its parent the context `parent`
    carries (a `traceparent`), else the current span. Nothing at all when tracing is off."""
    if not enabled():
        yield
        return
    context = _extract(parent) if parent else None
    with _tracer().start_as_current_span(
        name, context=context, kind=_kind(kind), attributes=dict(attributes or {})
    ):
        yield


def request_span(method: str, route: str, headers: Mapping[str, str]):
    """A server span for an HTTP request, the caller's trace continued; ended by `end`."""
    if not enabled():
        return None
    from opentelemetry import context as otel_context
    from opentelemetry import trace

    carrier = {TRACEPARENT: headers.get(TRACEPARENT, "")}
    started = _tracer().start_span(
        f"{method} {route}",
        context=_extract(carrier),
        kind=_kind("SERVER"),
        attributes={"http.request.method": method, "http.route": route},
    )
    token = otel_context.attach(trace.set_span_in_context(started))
    return started, token


def end(handle, status: int | None = None) -> None:
    if handle is None:
        return
    from opentelemetry import context as otel_context

    started, token = handle
    if status is not None:
        started.set_attribute("http.response.status_code", status)
    started.end()
    otel_context.detach(token)


def current_traceparent() -> str | None:
    """The current span's context as a `traceparent` value (kept with an outbox row), or None."""
    if not enabled():
        return None
    return _inject().get(TRACEPARENT)


def outgoing_headers() -> dict[str, str]:
    """Headers for an HTTP call, so the called service continues this trace."""
    return _inject() if enabled() else {}


def message_headers(traceparent: str | None) -> list[tuple[str, bytes]]:
    return [(TRACEPARENT, traceparent.encode())] if traceparent else []


def message_parent(headers: Sequence[tuple[str, bytes | None]]) -> dict[str, str]:
    """The trace context a Kafka message carries in its headers ({} if none)."""
    for key, value in headers or ():
        if key == TRACEPARENT and value:
            return {TRACEPARENT: value.decode(errors="replace")}
    return {}


def publishing(traceparent: str | None, topic: str) -> tuple[Any, list[tuple[str, bytes]]]:
    """A producer span for one message, child of the context its outbox row kept, and the
    headers that carry it on to the consumers. Off, the kept context travels on unchanged."""
    if not traceparent:
        return None, []
    if not enabled():
        return None, message_headers(traceparent)
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    started = _tracer().start_span(
        f"publish {topic}",
        context=_extract({TRACEPARENT: traceparent}),
        kind=_kind("PRODUCER"),
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
    )
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier, context=trace.set_span_in_context(started))
    return started, message_headers(carrier.get(TRACEPARENT))


def finish(started, error: BaseException | None = None) -> None:
    if started is None:
        return
    if error is not None:
        from opentelemetry.trace import Status, StatusCode

        started.set_status(Status(StatusCode.ERROR, type(error).__name__))
    started.end()


def consuming(message, event):
    """A consumer span around applying one event, child of the publish that sent it."""
    if not enabled():
        return contextlib.nullcontext()
    return span(
        f"consume {event.event_type}",
        "CONSUMER",
        message_parent(message.headers),
        {
            "messaging.system": "kafka",
            "messaging.source.name": message.topic,
            "messaging.kafka.partition": message.partition,
            "messaging.kafka.offset": message.offset,
            "tandem.event_type": event.event_type,
            "tandem.event_id": event.event_id,
        },
    )
