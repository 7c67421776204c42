"""Who may read /metrics, and how requests are labelled."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.eventkit import metrics


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("10.2.3.4", False),
     ("203.0.113.9", False), ("", False), ("not an address", False)],
)  # fmt: skip
def test_only_loopback_reads_metrics_by_default(monkeypatch, address, allowed):
    monkeypatch.delenv("TANDEM_METRICS_ALLOW", raising=False)
    monkeypatch.delenv("TANDEM_METRICS_TOKEN", raising=False)
    assert metrics.scrape_allowed(address, None) is allowed


def test_a_cluster_network_or_the_token_opens_metrics(monkeypatch):
    monkeypatch.setenv("TANDEM_METRICS_ALLOW", "10.0.0.0/8")
    monkeypatch.setenv("TANDEM_METRICS_TOKEN", "s3cret-token")
    assert metrics.scrape_allowed("10.2.3.4", None)
    assert not metrics.scrape_allowed("127.0.0.1", None)
    assert metrics.scrape_allowed("203.0.113.9", "Bearer s3cret-token")
    assert not metrics.scrape_allowed("203.0.113.9", "Bearer wrong")
    assert not metrics.scrape_allowed("203.0.113.9", "Basic s3cret-token")


def test_without_a_token_no_bearer_opens_metrics(monkeypatch):
    monkeypatch.delenv("TANDEM_METRICS_TOKEN", raising=False)
    assert not metrics.scrape_allowed("203.0.113.9", "Bearer ")


def test_requests_are_labelled_by_rule_and_known_method():
    metrics.observe_request("unit", "/api/things/<thing_id>", "GET", 200, 0.01)
    metrics.observe_request("unit", None, "BREW", 404, 0.01)
    metrics.observe_request("unit", "/api/things", "POST", 503, 0.2)
    text = metrics.exposition().decode()
    samples = [
        s for f in text_string_to_metric_families(text) for s in f.samples
        if s.labels.get("process") == "unit"
    ]  # fmt: skip
    routes = {s.labels["route"] for s in samples}
    assert routes == {"/api/things/<thing_id>", "unmatched", "/api/things"}
    assert {s.labels["method"] for s in samples} == {"GET", "other", "POST"}
    errors = [s for s in samples if s.name == "tandem_http_request_errors_total"]
    assert [(s.labels["route"], s.value) for s in errors] == [("/api/things", 1.0)]
