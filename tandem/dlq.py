"""`tandem dlq list|show|redrive`: the messages consumers gave up on, one JSON line each (ids
and the error, no payload), one whole, or sent again to the topic they came from. Each message
sent again is kept in the consortium audit trail, as the operations page's button keeps it."""

from __future__ import annotations

import argparse
import json
import sys

import requests
from kafka.errors import KafkaConnectionError

from services.eventkit import config, dead_letters
from services.eventkit.auth import TokenSigner, system_principal
from services.eventkit.broker import port_open

AUDIT_TIMEOUT_S = 10.0


def dlq(args: argparse.Namespace, load_service) -> int:
    services = [args.service] if args.service else list(config.SERVICES)
    topics = sorted({config.dlq_topic(t) for n in services for t in load_service(n).subscriptions})
    host, _, port = config.bootstrap_servers().split(",")[0].rpartition(":")
    if not port_open(host or "127.0.0.1", int(port)):  # refused at once, not after retries
        raise KafkaConnectionError("the broker refuses connections")
    letters = dead_letters.read(config.bootstrap_servers(), topics)
    if args.service:  # a topic's dead letters come from each of its consumers
        letters = [d for d in letters if d.headers.get("consumer") in (None, "", args.service)]
    if args.dlq_action == "list":
        for letter in letters:
            print(json.dumps(letter.summary()))
        return 0
    try:
        chosen = letters if args.all else [dead_letters.find(letters, ref) for ref in args.refs]
    except ValueError as exc:
        print(f"tandem dlq: {exc}", file=sys.stderr)
        return 2
    if not chosen or any(c is None for c in chosen):
        missing = [r for r, c in zip(args.refs, chosen, strict=True) if c is None]
        print(f"tandem dlq: name messages as listed; not found: {missing or 'none named'}",
              file=sys.stderr)  # fmt: skip
        return 2
    found = [c for c in chosen if c is not None]
    if args.dlq_action == "show":
        for letter in found:
            print(json.dumps({**letter.summary(), "headers": letter.headers,
                              "event": letter.event()}, indent=2))  # fmt: skip
        return 0
    count = dead_letters.redrive(config.bootstrap_servers(), found)
    print(f"sent {count} dead-lettered messages again to the topics they came from")
    unrecorded = [d.ref for d in found if not record_redrive(d, args.service, args.by)]
    if unrecorded:
        print(f"tandem dlq: sent, but the audit trail did not record: {unrecorded}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def record_redrive(letter: dead_letters.DeadLetter, service: str | None, by: str | None) -> bool:
    """An `operation` access in enrollment's store, as the page records it: the operator named
    by `--by` (an id or an email) acts, else the system; `what` says it came from here."""
    consumer = letter.headers.get("consumer") or service or "?"
    body: dict[str, str] = {
        "kind": "operation",
        "method": "redrive",
        "what": f"cli {consumer} {letter.ref}"[:100],
    }
    if by:
        body["email" if "@" in by else "person_id"] = by
    token = TokenSigner(config.token_key(), config.token_ttl_seconds()).mint(system_principal())
    try:
        reply = requests.post(
            config.service_url("enrollment") + "/api/access-events",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=AUDIT_TIMEOUT_S,
        )
    except requests.RequestException as exc:
        print(f"tandem dlq: enrollment did not answer: {exc}", file=sys.stderr)
        return False
    return reply.status_code == 201
