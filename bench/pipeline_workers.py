"""The pipeline benchmark's workers: enrollment's relay and pairing's timed consumer, each in a
process of its own as `tandem run` starts a service's worker."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import threading
import time
from collections.abc import Sequence
from typing import Any

from services.eventkit import Runtime, Service, config
from services.eventkit.bus import KafkaPublisher, KafkaSubscriber, Message
from services.eventkit.consumer import EventConsumer
from services.eventkit.relay import Relay


def load_services() -> tuple[Service, Service]:
    from services.enrollment.service import SERVICE as enrollment
    from services.pairing.service import SERVICE as pairing

    # Imported earlier in this process, the projections would still name another run's topics.
    if pairing.subscriptions != [enrollment.topic]:
        raise RuntimeError(
            f"pairing reads {pairing.subscriptions}, enrollment writes {enrollment.topic}: "
            "run the benchmark in a fresh process"
        )
    return enrollment, pairing


class TimedConsumer(EventConsumer):
    """The kit's consumer, reporting when each message's stream became visible in the projection.

    handle_batch returns after its transaction committed: that instant is the arrival time, on
    the machine-wide monotonic clock the appending process reads too.
    """

    def __init__(self, arrivals: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals = arrivals  # a multiprocessing queue of (stream ids, time)

    def handle_batch(self, messages: Sequence[Message]) -> dict[tuple[str, int], int]:
        offsets = super().handle_batch(messages)
        now = time.monotonic()
        self.arrivals.put(([m.key.decode() for m in messages if m.key is not None], now))
        return offsets


def relay_worker(url: str, bootstrap: str, stop: Any, failures: Any, reports: Any) -> None:
    """Enrollment's worker: its relay, in a process of its own as `tandem run` starts it."""
    try:
        enrollment, _ = load_services()
        source = Runtime(enrollment, url)
        publisher = KafkaPublisher(bootstrap, client_id="tandem-enrollment-relay")
        halt = threading.Event()
        threading.Thread(target=_halt_when, args=(stop, halt), daemon=True).start()
        started = time.process_time()
        try:
            Relay(source.engine, enrollment.tables, publisher, name=enrollment.name).run(halt)
        finally:
            publisher.close()
            source.engine.dispose()
        reports.put(("relay", time.process_time() - started))
    except BaseException as exc:
        failures.put(f"relay: {exc!r}")
        raise


def consumer_worker(
    url: str, bootstrap: str, arrivals: Any, stop: Any, failures: Any, reports: Any
) -> None:
    """Pairing's worker: its consumer, timed, in a process of its own."""
    try:
        _, pairing = load_services()
        sink = Runtime(pairing, url)
        dlq = KafkaPublisher(bootstrap, client_id="tandem-pairing-dlq")
        consumer = TimedConsumer(
            arrivals, sink.engine, pairing.tables, pairing.reading_registry(), pairing.consumers,
            dlq=dlq,
        )  # fmt: skip
        subscriber = KafkaSubscriber(
            bootstrap,
            group_id=config.consumer_group(pairing.name),
            topics=pairing.subscriptions,
            max_poll_interval_ms=config.max_poll_interval_ms(),
            client_id="tandem-pairing-consumer",
        )
        halt = threading.Event()
        threading.Thread(target=_halt_when, args=(stop, halt), daemon=True).start()
        started = time.process_time()
        try:
            consumer.run(subscriber, halt)
        finally:
            subscriber.close()
            dlq.close()
            sink.engine.dispose()
        reports.put(("consumer", time.process_time() - started))
        if consumer.dead_lettered:
            failures.put(f"consumer: {consumer.dead_lettered} events were dead-lettered")
    except BaseException as exc:
        failures.put(f"consumer: {exc!r}")
        raise


def _halt_when(stop: Any, halt: threading.Event) -> None:
    stop.wait()
    halt.set()


class Workers:
    """The relay's and the consumer's processes, and the arrivals the consumer reports."""

    def __init__(self, urls: dict[str, str], bootstrap: str) -> None:
        context = multiprocessing.get_context("spawn")  # a fresh interpreter, as a worker is
        self.stop = context.Event()
        self.failures = context.Queue()
        self.reports = context.Queue()  # (worker, CPU seconds from its start to its stop)
        self._queue = context.Queue()
        self.processes = [
            context.Process(
                target=relay_worker,
                args=(urls["enrollment"], bootstrap, self.stop, self.failures, self.reports),
                name="enrollment-worker",
            ),
            context.Process(
                target=consumer_worker,
                args=(
                    urls["pairing"],
                    bootstrap,
                    self._queue,
                    self.stop,
                    self.failures,
                    self.reports,
                ),
                name="pairing-worker",
            ),
        ]
        self.arrivals: dict[str, float] = {}
        self.closed = False

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def check(self) -> None:
        if not self.failures.empty():
            raise RuntimeError(f"a pipeline worker failed: {self.failures.get()}")
        dead = [p.name for p in self.processes if not p.is_alive()]
        if dead:
            raise RuntimeError(f"pipeline worker(s) stopped: {', '.join(dead)}")

    def wait_for(self, keys: set[str], timeout_s: float) -> None:
        """Block until every key has arrived (the first delivery counts, not a redelivery)."""
        deadline = time.monotonic() + timeout_s
        while not keys <= self.arrivals.keys():
            self.check()
            left = deadline - time.monotonic()
            if left <= 0:
                missing = len(keys - self.arrivals.keys())
                raise TimeoutError(
                    f"{missing} of {len(keys)} events not projected in {timeout_s:.0f} s"
                )
            try:
                streams, at = self._queue.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            for stream in streams:
                self.arrivals.setdefault(stream, at)

    def close(self, timeout_s: float = 15.0) -> dict[str, float]:
        """Stop the workers; return the CPU seconds each reported."""
        cpu: dict[str, float] = {}
        if self.closed:
            return cpu
        self.closed = True
        self.stop.set()
        for _ in self.processes:
            with contextlib.suppress(queue.Empty):
                name, seconds = self.reports.get(timeout=timeout_s)
                cpu[name] = seconds
        for process in self.processes:
            process.join(timeout_s)
            if process.is_alive():
                process.kill()
        failure = None if self.failures.empty() else self.failures.get()
        if failure is not None:
            print(f"a pipeline worker reported: {failure}")
        return cpu
