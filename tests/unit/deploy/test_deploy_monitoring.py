"""The monitoring component (deploy/kubernetes/components/monitoring): added to the production
overlay it renders; every pod gets the scraper's token; Prometheus may reach each metrics port;
the dashboard and the alert rules parse and name only metrics Tandem exports."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import KUBERNETES, ROOT, by_name, of_kind, pod_spec, run, tool

MONITORING = KUBERNETES / "components" / "monitoring"
METRIC = re.compile(r"\btandem_[a-z_]+\b")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")


@pytest.fixture(scope="module")
def monitored(tmp_path_factory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("monitored")
    up = os.path.relpath(KUBERNETES, folder)
    (folder / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources: [{up}/overlays/production]\ncomponents: [{up}/components/monitoring]\n"
    )
    result = run([tool("kubectl"), "kustomize", str(folder)])
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def exported_metrics() -> set[str]:
    """Every metric name the code declares (counters without their _total, as declared)."""
    names: set[str] = set()
    for module in ("metrics.py", "pipeline_metrics.py"):
        source = (ROOT / "services" / "eventkit" / module).read_text()
        names |= set(re.findall(r'"(tandem_[a-z_]+)"', source))
    return names


def base_name(metric: str) -> str:
    for suffix in SUFFIXES:
        if metric.endswith(suffix):
            return metric.removesuffix(suffix)
    return metric


def known(metric: str, exported: set[str]) -> bool:
    return metric in exported or base_name(metric) in exported


def test_every_deployment_reads_the_scraper_token(monitored: list[dict[str, Any]]) -> None:
    deployments = of_kind(monitored, "Deployment")
    assert len(deployments) == 9  # four APIs, four workers, the web
    for deployment in deployments:
        (container, *_) = pod_spec(deployment)["containers"]
        tokens = [e for e in container["env"] if e["name"] == "TANDEM_METRICS_TOKEN"]
        assert tokens == [
            {
                "name": "TANDEM_METRICS_TOKEN",
                "valueFrom": {"secretKeyRef": {"name": "tandem-metrics", "key": "token"}},
            }
        ], deployment["metadata"]["name"]


def test_prometheus_scrapes_every_metrics_port(monitored: list[dict[str, Any]]) -> None:
    (monitor,) = of_kind(monitored, "PodMonitor")
    endpoints = {e["port"]: e for e in monitor["spec"]["podMetricsEndpoints"]}
    assert set(endpoints) == {"http", "health"}
    for endpoint in endpoints.values():
        assert endpoint["path"] == "/metrics"
        assert endpoint["authorization"]["credentials"] == {
            "name": "tandem-metrics",
            "key": "token",
        }
    policy = by_name(monitored, "NetworkPolicy")["tandem-metrics-scrape"]["spec"]
    allowed = {p["port"] for rule in policy["ingress"] for p in rule["ports"]}
    for deployment in of_kind(monitored, "Deployment"):
        (container, *_) = pod_spec(deployment)["containers"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        scraped = {n: p for n, p in ports.items() if n in endpoints}
        assert scraped, deployment["metadata"]["name"]
        assert set(scraped.values()) <= allowed, deployment["metadata"]["name"]


def test_the_dashboard_parses_and_charts_exported_metrics(monitored) -> None:
    raw = (MONITORING / "grafana-dashboard.json").read_text()
    dashboard = json.loads(raw)
    assert dashboard["uid"] == "tandem-operations"
    exported = exported_metrics()
    charted: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["title"] and panel["targets"], panel
        for target in panel["targets"]:
            names = set(METRIC.findall(target["expr"]))
            assert names, target["expr"]
            unknown = {n for n in names if not known(n, exported)}
            assert not unknown, f"{panel['title']}: {unknown}"
            charted |= {base_name(n) for n in names}
    for needed in ("tandem_http_requests", "tandem_http_request_duration_seconds",
                   "tandem_events_appended", "tandem_outbox_backlog", "tandem_consumer_lag",
                   "tandem_dlq_messages", "tandem_projection_position", "tandem_emails",
                   "tandem_pairing_run_seconds"):  # fmt: skip
        assert needed in charted, needed
    (configmap,) = [
        c for c in of_kind(monitored, "ConfigMap") if "tandem-dashboard.json" in c.get("data", {})
    ]
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(configmap["data"]["tandem-dashboard.json"]) == dashboard


def test_alert_rules_parse_and_watch_the_pipeline(monitored) -> None:
    (rule_set,) = of_kind(monitored, "PrometheusRule")
    rules = {r["alert"]: r for g in rule_set["spec"]["groups"] for r in g["rules"]}
    for needed in ("TandemRelayStuck", "TandemConsumerLagRising", "TandemDeadLettersGrowing",
                   "TandemSmtpFailing"):  # fmt: skip
        assert needed in rules
    exported = exported_metrics()
    for name, rule in rules.items():
        expr = rule["expr"]
        assert expr.count("(") == expr.count(")"), name
        names = set(METRIC.findall(expr))
        assert names and all(known(n, exported) for n in names), (name, names)
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]


def test_readme_tells_how_to_create_the_metrics_secret() -> None:
    readme = (Path(KUBERNETES).parent / "README.md").read_text()
    assert re.search(r"create secret \w+ tandem-metrics\b", readme)
