"""The worker process of a service: outbox relay plus consumer loop, with its own health endpoint."""

from __future__ import annotations

import json
import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import config, metrics
from .bus import (
    BrokerWatch,
    KafkaPublisher,
    KafkaSubscriber,
    ensure_topics,
    topic_is_empty,
)
from .consumer import EventConsumer
from .operations import checkpoint_every, republish
from .pipeline_metrics import PipelineCollector
from .relay import Healing, Relay, relay_status
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
        self.watch = BrokerWatch(
            self.bootstrap,
            own_topic=service.topic,
            group=config.consumer_group(service.name),
            subscriptions=service.subscriptions,
        )
        self.stuck_after_s = config.env_int("TANDEM_RELAY_STUCK_S", 60)
        self.dlq_sizes: dict[str, int] = {}  # messages on each dead-letter topic it writes to

    def start(self) -> None:
        self._ensure_topics()
        self.watch.check()  # learn the broker's identity before anyone depends on it
        name = self.service.name
        relay = Relay(
            self.runtime.engine,
            self.service.tables,
            KafkaPublisher(self.bootstrap, client_id=f"tandem-{name}-relay"),
            name=name,
            healing=Healing(
                losses=lambda: self.watch.losses,
                topic_empty=lambda: topic_is_empty(self.bootstrap, self.service.topic),
                republish=self._republish,
            ),
        )
        self._spawn(f"{name}-watch", self._watch_broker)
        self._spawn(f"{name}-relay", relay.run, self.stop)
        for task in self.service.background:
            self._spawn(f"{name}-{task.__name__}", task, self.runtime, self.stop)
        checkpoints = KafkaPublisher(self.bootstrap, client_id=f"tandem-{name}-checkpoints")
        self._spawn(f"{name}-checkpoints", self._checkpoints, checkpoints)
        if self.service.subscriptions:
            consumer = EventConsumer(
                self.runtime.engine,
                self.service.tables,
                self.service.reading_registry(),
                self.service.consumers,
                dlq=KafkaPublisher(self.bootstrap, client_id=f"tandem-{name}-dlq"),
                name=name,
            )
            self._spawn(f"{name}-consumer", self._consume, consumer)

    def _checkpoints(self, publisher: KafkaPublisher) -> None:
        try:
            checkpoint_every(self.runtime, self.stop, publisher)
        finally:
            publisher.close()

    def _ensure_topics(self) -> None:
        ensure_topics(
            self.bootstrap,
            self.service.topics(),
            config.topic_partitions(),
            config.topic_replication_factor(),
        )

    def _republish(self) -> int:
        self._ensure_topics()
        return republish(self.runtime)

    def _watch_broker(self, interval_s: float = 2.0) -> None:
        while not self.stop.wait(interval_s):
            self.watch.check()
            self._measure_dead_letters()
        self.watch.close()

    def _measure_dead_letters(self) -> None:
        """Messages on each dead-letter topic the consumer writes to (for /metrics); the
        watch's thread asks, since its broker clients are not shared between threads."""
        topics = [config.dlq_topic(t) for t in self.service.subscriptions]
        try:
            ends = self.watch.end_offsets(topics) if topics else {}
        except Exception as exc:  # the broker away: keep the last numbers
            log.debug("dead-letter topics: %r", exc)
            return
        self.dlq_sizes = {t: sum(n for (tp, _), n in ends.items() if tp == t) for t in topics}

    def _subscriber(self) -> KafkaSubscriber:
        return KafkaSubscriber(
            self.bootstrap,
            group_id=config.consumer_group(self.service.name),
            topics=self.service.subscriptions,
            max_poll_interval_ms=config.max_poll_interval_ms(),
            fetch_max_wait_ms=config.env_int("KAFKA_FETCH_MAX_WAIT_MS", 100),
            client_id=f"tandem-{self.service.name}-consumer",
        )

    def _consume(self, consumer: EventConsumer) -> None:
        """Consume; after a broker loss, read every partition from its start (the committed
        offsets are gone, and the topics are being filled again by their owners)."""
        subscriber = self._subscriber()
        try:
            while not self.stop.is_set():
                losses = self.watch.losses
                consumer.run(subscriber, self.stop, until=lambda n=losses: self.watch.losses != n)
                if not self.stop.is_set():
                    log.warning("consumer: the broker lost its offsets; reading from the start")
                    subscriber.rewind()
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

    def readiness(self) -> dict:
        """Checks (each true or false) and what the relay and consumer are doing."""
        # The watch asks the broker every two seconds: no new connection per probe.
        checks = {"threads": self.healthy(), "broker": self.watch.reachable}
        relay: dict | None = None
        try:
            status = relay_status(
                self.runtime.engine, self.service.tables.outbox, self.stuck_after_s
            )
            checks["database"] = True
            checks["relay"] = not status.stuck
            relay = status.as_dict()
        except Exception:
            checks["database"] = False
        ready = all(checks.values())
        return {
            "ready": ready,
            "checks": checks,
            "relay": relay,
            "consumer": {"lag": self.watch.lag} if self.service.subscriptions else None,
            "dead_letters": self.dlq_sizes if self.service.subscriptions else None,
            "broker_losses": self.watch.losses,
        }

    def metrics(self) -> bytes:
        return metrics.exposition(
            [
                PipelineCollector(
                    self.service.name,
                    self.runtime.engine,
                    self.service.tables,
                    self.watch,
                    self.dlq_sizes,
                    self.stuck_after_s,
                )
            ]
        )

    def ready(self) -> dict[str, bool]:
        return self.readiness()["checks"]

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
            if self.path == "/metrics":
                self._metrics()
                return
            if self.path == "/healthz":
                ok, body = worker.healthy(), {"status": "alive" if worker.healthy() else "failed"}
            elif self.path == "/readyz":
                body = worker.readiness()
                ok = body["ready"]
            else:
                ok, body = False, {"message": "not found"}
                self._send(404, body)
                return
            self._send(200 if ok else 503, body)

        def _metrics(self) -> None:
            if not metrics.scrape_allowed(
                self.client_address[0], self.headers.get("Authorization")
            ):
                self._send(403, {"message": "metrics are for the scraper"})
                return
            data = worker.metrics()
            self.send_response(200)
            self.send_header("Content-Type", metrics.CONTENT_TYPE)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

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
