"""The web client asking services for readiness and counts, as the status page does."""

from __future__ import annotations

import socket
import time

from services.eventkit import config
from services.eventkit.auth import TokenSigner
from web import suite_status
from web.client import Client


def signer() -> TokenSigner:
    return TokenSigner(config.token_key(), config.token_ttl_seconds())


def test_reads_readiness_and_counts(start_service):
    fake = start_service("pairing", counts={"pairings": 7, "candidates": 20})
    client = Client({"pairing": fake.url + "/"}, signer())

    (status,) = suite_status.statuses(client)

    assert status.name == "pairing"
    assert status.state == "ready"
    assert status.label == "Ready"
    assert status.counts == {"pairings": 7, "candidates": 20}
    assert status.problem is None


def test_unreachable_service_is_a_result_not_an_exception(dead_url):
    client = Client({"feedback": dead_url}, signer())

    (status,) = suite_status.statuses(client)

    assert status.state == "unreachable"
    assert status.label == "Unreachable"
    assert status.counts is None
    assert suite_status.alive(client) == {"feedback": False}


def test_a_silent_service_times_out_quickly():
    # Listening but never answering: the connection opens, the reply never comes.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        client = Client({"enrollment": url, "pairing": url}, signer(), timeout_s=0.3)

        started = time.monotonic()
        statuses = suite_status.statuses(client)
        elapsed = time.monotonic() - started

    assert [s.state for s in statuses] == ["unreachable", "unreachable"]
    assert elapsed < 1.5  # calls run in parallel, so about one timeout in all


def test_a_url_pointing_at_another_service_shows_no_counts(start_service):
    pairing = start_service("pairing", counts={"pairings": 7})
    client = Client({"enrollment": pairing.url}, signer())

    (status,) = suite_status.statuses(client)

    assert status.state == "ready"
    assert status.counts is None
    assert status.problem == "Counts unavailable (answers as 'pairing')"


def test_malformed_stats_are_reported(start_service):
    fake = start_service("feedback", stats_body={"service": "feedback", "counts": [1, 2]})
    client = Client({"feedback": fake.url}, signer())

    (status,) = suite_status.statuses(client)

    assert status.counts is None
    assert status.problem == "Counts unavailable (unexpected answer)"


def test_statuses_keep_configuration_order(start_service, dead_url):
    fake = start_service("notifications")
    urls = {"enrollment": dead_url, "notifications": fake.url, "pairing": dead_url}

    statuses = suite_status.statuses(Client(urls, signer()))

    assert [s.name for s in statuses] == ["enrollment", "notifications", "pairing"]
    assert [s.state for s in statuses] == ["unreachable", "ready", "unreachable"]
    assert statuses[1].counts == {}
