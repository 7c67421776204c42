"""A service API's /metrics: requests counted under their route rule (no ids), the scraper
let in from loopback or with its token, anyone else refused."""

from __future__ import annotations

import uuid

from prometheus_client.parser import text_string_to_metric_families


def _samples(text: str) -> list:
    return [s for f in text_string_to_metric_families(text) for s in f.samples]


def test_requests_are_counted_under_their_route_rule(client, admin, monkeypatch):
    monkeypatch.delenv("TANDEM_METRICS_TOKEN", raising=False)
    missing = str(uuid.uuid4())
    assert client.get(f"/api/people/{missing}", headers=admin).status_code == 404
    assert client.get("/api/people/whatever").status_code == 401

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.get_data(as_text=True)
    assert missing not in text and "whatever" not in text
    counted = {
        (s.labels["route"], s.labels["status"]): s.value
        for s in _samples(text)
        if s.name == "tandem_http_requests_total" and s.labels["process"] == "enrollment"
    }
    assert counted[("/api/people/<person_id>", "404")] >= 1
    assert counted[("/api/people/<person_id>", "401")] >= 1
    assert not any(route == "/metrics" for route, _ in counted)


def test_metrics_refuse_other_addresses_unless_they_bring_the_token(client, monkeypatch):
    monkeypatch.setenv("TANDEM_METRICS_TOKEN", "scraper-token-for-tests")
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get("/metrics", environ_base=outside).status_code == 403
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=outside, headers=wrong).status_code == 403
    token = {"Authorization": "Bearer scraper-token-for-tests"}
    assert client.get("/metrics", environ_base=outside, headers=token).status_code == 200
