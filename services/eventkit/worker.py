"""The worker process of a service: outbox relay plus consumer loop, with its own health endpoint."""

from __future__ import annotations

import json
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import config
from .bus import KafkaPublisher, KafkaSubscriber, broker_reachable, ensure_topics
from .consumer import EventConsumer
from .db import ping
from .operations import checkpoint_every
from .relay import Relay
from .service import Runtime, Service

log = logging.getLogger(__name__)


def worker_health_port(service: str) -> int:
    return config.env_int(f"{service.upper()}_WORKER_HEALTH_PORT", config.port(service) + 100)


class Worker:
    def __init__(
        self, service: Service, database_url: str | None = None, bootstrap: str | None = None
    ):
        self.service = service
        self.runtime = Runtime(service, database_url)
        self.bootstrap = bootstrap or config.bootstrap_servers()
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.failed = False

    def start(self) -> None:
        ensure_topics(
            self.bootstrap,
            self.service.topics(),
            config.topic_partitions(),
            config.topic_replication_factor(),
        )
        name = self.service.name
        relay = Relay(
            self.runtime.engine,
            self.service.tables,
            KafkaPublisher(self.bootstrap, client_id=f"tandem-{name}-relay"),
            name=name,
        )
        self._spawn(f"{name}-relay", relay.run, self.stop)
        for task in (*self.service.background, checkpoint_every):
            self._spawn(f"{name}-{task.__name__}", task, self.runtime, self.stop)
        if self.service.subscriptions:
            consumer = EventConsumer(
                self.runtime.engine,
                self.service.tables,
                self.service.reading_registry(),
                self.service.consumers,
                dlq=KafkaPublisher(self.bootstrap, client_id=f"tandem-{name}-dlq"),
            )
            subscriber = KafkaSubscriber(
                self.bootstrap,
                group_id=config.consumer_group(name),
                topics=self.service.subscriptions,
                max_poll_interval_ms=config.max_poll_interval_ms(),
                fetch_max_wait_ms=config.env_int("KAFKA_FETCH_MAX_WAIT_MS", 100),
                client_id=f"tandem-{name}-consumer",
            )
            self._spawn(f"{name}-consumer", self._consume, consumer, subscriber)

    def _consume(self, consumer: EventConsumer, subscriber: KafkaSubscriber) -> None:
        try:
            consumer.run(subscriber, self.stop)
        finally:
            subscriber.close()

    def _spawn(self, name: str, target, *args) -> None:
        thread = threading.Thread(target=self._guard, args=(target, *args), name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _guard(self, target, *args) -> None:
        try:
            target(*args)
        except Exception:
            log.exception("%s stopped with an error", threading.current_thread().name)
            self.failed = True
            self.stop.set()

    def healthy(self) -> bool:
        return not self.stop.is_set() and all(t.is_alive() for t in self.threads)

    def ready(self) -> dict[str, bool]:
        checks = {"threads": self.healthy(), "broker": broker_reachable(self.bootstrap)}
        try:
            ping(self.runtime.engine)
            checks["database"] = True
        except Exception:
            checks["database"] = False
        return checks

    def shutdown(self, timeout_s: float = 10.0) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout_s)
        self.runtime.engine.dispose()


def serve_forever(service: Service) -> int:
    """`tandem <service> consume`: run until SIGTERM or SIGINT; non-zero if a loop failed."""
    worker = Worker(service)
    health = _health_server(worker, worker_health_port(service.name))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop.set())
    worker.start()
    log.info("%s worker running (topics %s)", service.name, ", ".join(service.topics()))
    worker.stop.wait()
    health.shutdown()
    worker.shutdown()
    return 1 if worker.failed else 0


def _health_server(worker: Worker, port: int) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/healthz":
                ok, body = worker.healthy(), {"status": "alive" if worker.healthy() else "failed"}
            elif self.path == "/readyz":
                checks = worker.ready()
                ok, body = all(checks.values()), {"ready": all(checks.values()), "checks": checks}
            else:
                ok, body = False, {"message": "not found"}
                self._send(404, body)
                return
            self._send(200 if ok else 503, body)

        def _send(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer((config.env("TANDEM_BIND_HOST", "0.0.0.0"), port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    return server
