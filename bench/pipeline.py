"""End-to-end throughput and latency of the event pipeline, beside raw kafka-python on one broker.

Pipeline: PersonRegistered appended to enrollment's event store -> outbox -> relay -> Kafka ->
pairing's consumer -> a row in pairing's `people` projection. As `tandem run` deploys them, the
appends (enrollment's API), the relay (enrollment's worker) and the consumer (pairing's worker)
run in three processes. Each event's latency runs from the commit of its append to the commit of
the consumer batch that projected it.

Raw: the same number of 500-byte messages produced with a plain KafkaProducer (acks=all,
idempotent, as the kit's publisher) and consumed with a plain KafkaConsumer in a group.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from kafka import KafkaConsumer, KafkaProducer

from bench.databases import databases, postgres_server
from bench.pipeline_workers import Workers, load_services
from bench.stats import Summary, latencies_ms, per_second, summarize
from services.enrollment.domain.person import Person
from services.eventkit import Metadata, Runtime, Service, config
from services.eventkit.broker import free_port, start_embedded_broker, stop
from services.eventkit.bus import ensure_topics
from services.eventkit.db import make_engine
from services.eventkit.migrations import upgrade

HELP = "events/s and latency from enrollment's store to pairing's projection, vs raw Kafka"
DEFAULT_EVENTS = 5000
RAW_MESSAGE_BYTES = 500
WARM_UP_TIMEOUT_S = 90.0  # joining a consumer group takes seconds, more on a cold broker


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--events",
        type=int,
        default=DEFAULT_EVENTS,
        help=f"events to send (default {DEFAULT_EVENTS})",
    )
    parser.add_argument(
        "--batch", type=int, default=50, help="events per append transaction (default 50)"
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="target append rate in events/s; 0 appends as fast as possible (default)",
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgres"),
        default="sqlite",
        help="sqlite: files in a temporary folder (default); postgres: fresh databases on the "
        "server in BENCH_DATABASE_URL or TEST_DATABASE_URL, dropped afterwards",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for the last event to be projected after appending (default 120)",
    )


def run(args: argparse.Namespace) -> int:
    if args.events < 1 or args.batch < 1 or args.rate < 0:
        raise SystemExit("--events and --batch must be positive and --rate not negative")
    if args.database == "postgres":
        postgres_server()  # fail before starting a broker
    with contextlib.ExitStack() as cleanup:
        workdir = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="tandem-bench-")))
        bootstrap, broker_kind = cleanup.enter_context(kafka_broker(workdir))
        prefix = namespace_topics()
        enrollment, pairing = load_services()
        urls = cleanup.enter_context(databases(args.database, workdir, ["enrollment", "pairing"]))
        print(f"broker {broker_kind} at {bootstrap}, topics {prefix}*, {args.database} databases")
        pipe = measure_pipeline(
            enrollment,
            pairing,
            urls,
            bootstrap,
            events=args.events,
            batch=args.batch,
            rate=args.rate,
            timeout_s=args.timeout,
        )
        raw = measure_raw_kafka(bootstrap, prefix, args.events)
    report(pipe, raw, args, broker_kind)
    return 0


# --- environment: broker, topic namespace, services, databases -------------------------------


@contextlib.contextmanager
def kafka_broker(workdir: Path) -> Iterator[tuple[str, str]]:
    """KAFKA_BOOTSTRAP_SERVERS if set; else the embedded broker on a free port, stopped after."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if configured:
        yield configured, "external"
        return
    port = free_port()
    process = start_embedded_broker(port, str(workdir / "broker.log"))
    try:
        yield f"127.0.0.1:{port}", "embedded"
    finally:
        stop(process)


def namespace_topics() -> str:
    """A topic and consumer-group prefix of this run's own, so runs never see each other's events.

    Set before the services are imported: projections read their topic names at import time.
    """
    prefix = f"{config.topic_prefix()}bench-{uuid.uuid4().hex[:10]}."
    os.environ["KAFKA_TOPIC_PREFIX"] = prefix
    return prefix


# --- the pipeline -----------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PipelineResult:
    events: int
    batch: int
    append_s: float
    elapsed_s: float  # first append committed -> last event projected
    latency_ms: Summary
    projected_rows: int
    cpu_s: dict[str, float]  # per process: the appends' and each worker's


def measure_pipeline(
    enrollment: Service,
    pairing: Service,
    urls: dict[str, str],
    bootstrap: str,
    *,
    events: int,
    batch: int,
    rate: float,
    timeout_s: float,
) -> PipelineResult:
    """Appends in this process (as enrollment's API does); the relay and the consumer run in
    processes of their own (enrollment's and pairing's workers), each as the kit wires it."""
    for service in (enrollment, pairing):
        upgrade(service.migrations, urls[service.name])
        ensure_topics(bootstrap, service.topics(), config.topic_partitions())

    with contextlib.ExitStack() as cleanup:
        source = Runtime(enrollment, urls["enrollment"])
        cleanup.callback(source.engine.dispose)
        workers = Workers(urls, bootstrap)
        workers.start()
        cleanup.callback(workers.close)

        # One event through first: the relay's producer and the consumer group are then ready.
        institution_id = str(uuid.uuid4())
        warm_up = append_people(source, institution_id, 1)
        workers.wait_for(set(warm_up), WARM_UP_TIMEOUT_S)
        ((stream, committed),) = warm_up.items()
        joined_s = workers.arrivals[stream] - committed
        print(f"warmed up: the first event took {joined_s:.1f} s (consumer group join)")

        appended: dict[str, float] = {}
        started, cpu_started = time.monotonic(), time.process_time()
        for done in range(0, events, batch):
            if rate:
                # Paced: batch k is due at k * batch / rate seconds after the start.
                delay = started + done / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            appended.update(append_people(source, institution_id, min(batch, events - done)))
        append_s, append_cpu_s = time.monotonic() - started, time.process_time() - cpu_started
        workers.wait_for(set(appended), timeout_s)

        latencies = latencies_ms(appended, workers.arrivals)
        last_arrival = max(workers.arrivals[key] for key in appended)
        sink = make_engine(urls["pairing"])
        cleanup.callback(sink.dispose)
        with sink.connect() as conn:
            projected = conn.execute(
                sa.select(sa.func.count()).select_from(pairing_people(pairing))
            ).scalar_one()
        workers.check()
        cpu_s = {"append": append_cpu_s, **workers.close()}
        if projected != events + 1:  # the fresh database holds the warm-up and every event, once
            raise RuntimeError(f"pairing projected {projected} people, expected {events + 1}")
        return PipelineResult(
            events=events,
            batch=batch,
            append_s=append_s,
            elapsed_s=last_arrival - min(appended.values()),
            latency_ms=summarize(latencies),
            projected_rows=projected,
            cpu_s=cpu_s,
        )


def pairing_people(pairing: Service) -> sa.Table:
    return pairing.metadata.tables["people"]


TRAINING_LEVELS = ("MS3", "MS4", "PGY1", "PGY2", "PGY3", "fellow", "faculty")


def append_people(runtime: Runtime, institution_id: str, count: int) -> dict[str, float]:
    """Register `count` people in one transaction and one append, through the Person aggregate
    as a roster import does; return each one's stream id and commit time."""
    meta = Metadata(institution_id)
    people: list[Person] = []
    for _ in range(count):
        person = Person(str(uuid.uuid4()))
        person.register(
            institution_id,
            name=f"Bench Person {person.id[:8]}",
            email=f"{person.id}@bench.example.org",
            training_level=TRAINING_LEVELS[len(people) % len(TRAINING_LEVELS)],
            specialty="Internal medicine",
        )
        people.append(person)
    with runtime.engine.begin() as conn:
        runtime.save_all(conn, people, meta)
    committed = time.monotonic()
    return dict.fromkeys((p.stream_id for p in people), committed)


# --- raw kafka-python -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class RawResult:
    messages: int
    produce_s: float
    consume_s: float


def measure_raw_kafka(bootstrap: str, prefix: str, count: int) -> RawResult:
    """Produce then consume `count` messages on a fresh topic, with the group joined beforehand
    (as the pipeline's warm-up does) so neither figure includes the join."""
    topic = f"{prefix}bench.raw"
    ensure_topics(bootstrap, [topic], config.topic_partitions())
    servers = bootstrap.split(",")
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=servers,
        group_id=f"{prefix}bench-raw",
        auto_offset_reset="earliest",
        client_id="tandem-bench-raw-consumer",
        # The kit's subscriber timings: a group's first join waits on them (~5 s here, ~23 s with
        # kafka-python's defaults on the embedded broker). The join is not timed either way.
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        max_poll_interval_ms=config.max_poll_interval_ms(),
    )
    try:
        producer = KafkaProducer(
            bootstrap_servers=servers,
            client_id="tandem-bench-raw-producer",
            acks="all",
            enable_idempotence=True,
            linger_ms=2,  # as KafkaPublisher
        )
        try:
            deadline = time.monotonic() + WARM_UP_TIMEOUT_S
            while not consumer.assignment():
                if time.monotonic() > deadline:
                    raise TimeoutError("the raw consumer never joined its group")
                consumer.poll(timeout_ms=200)
            # Keys like the kit's stream ids, made before timing; 500 random bytes per value.
            keys = [f"person-{uuid.uuid4()}".encode() for _ in range(count)]
            value = os.urandom(RAW_MESSAGE_BYTES)

            started = time.perf_counter()
            futures = [producer.send(topic, key=key, value=value) for key in keys]
            producer.flush()
            for future in futures:
                future.get(timeout=30)  # raise on any failed send, as KafkaPublisher.flush does
            produced = time.perf_counter()
        finally:
            producer.close(timeout=5)

        received = 0
        deadline = time.monotonic() + 120
        while received < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"raw consumer received {received} of {count}")
            for records in consumer.poll(timeout_ms=500).values():
                received += len(records)
        consumed = time.perf_counter()
    finally:
        consumer.close()
    return RawResult(count, produce_s=produced - started, consume_s=consumed - produced)


# --- report -----------------------------------------------------------------------------------


def report(pipe: PipelineResult, raw: RawResult, args: argparse.Namespace, broker: str) -> None:
    lat = pipe.latency_ms
    events_per_s = per_second(pipe.events, pipe.elapsed_s)
    raw_per_s = per_second(raw.messages, raw.produce_s + raw.consume_s)
    figures = {
        "events_per_s": round(events_per_s, 1),
        "p50_ms": round(lat.p50, 2),
        "p90_ms": round(lat.p90, 2),
        "p99_ms": round(lat.p99, 2),
        "max_ms": round(lat.max, 2),
        "mean_ms": round(lat.mean, 2),
        "raw_events_per_s": round(raw_per_s, 1),
        "raw_produce_per_s": round(per_second(raw.messages, raw.produce_s), 1),
        "raw_consume_per_s": round(per_second(raw.messages, raw.consume_s), 1),
        "ratio": round(events_per_s / raw_per_s, 4),
        "events": pipe.events,
        "batch": pipe.batch,
        "target_rate": args.rate or None,
        "append_per_s": round(per_second(pipe.events, pipe.append_s), 1),
        "elapsed_s": round(pipe.elapsed_s, 3),
        "database": args.database,
        "broker": broker,
        "partitions": config.topic_partitions(),
        "raw_message_bytes": RAW_MESSAGE_BYTES,
        # CPU each process spent per event: steadier than rates on a busy machine.
        "cpu_us_per_event": {
            name: round(seconds / pipe.events * 1e6, 1) for name, seconds in pipe.cpu_s.items()
        },
    }
    print(
        f"pipeline: {pipe.events} PersonRegistered, {pipe.batch} per transaction, "
        f"{args.database}; pairing projected {pipe.projected_rows} rows (warm-up included)"
    )
    print(
        f"  appended at {figures['append_per_s']:.0f} ev/s; end to end "
        f"{events_per_s:.0f} ev/s over {pipe.elapsed_s:.2f} s"
    )
    print(
        f"  latency ms: p50 {lat.p50:.1f}  p90 {lat.p90:.1f}  p99 {lat.p99:.1f}  "
        f"max {lat.max:.1f}  mean {lat.mean:.1f}"
    )
    print(
        f"raw kafka-python: {raw.messages} x {RAW_MESSAGE_BYTES} B; produce "
        f"{figures['raw_produce_per_s']:.0f}/s, consume {figures['raw_consume_per_s']:.0f}/s, "
        f"both {raw_per_s:.0f}/s"
    )
    print(f"ratio pipeline/raw: {figures['ratio']:.3f}")
    print(json.dumps(figures))
