"""The deployment files agree with the code: every environment variable they set is one the code
reads, the Kafka topics are the ones services/eventkit/config.py names, and container and probe
ports are config.DEFAULT_PORTS (+100 for a worker's health port)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    DATABASE_OWNERS,
    DOCKERFILE,
    ROOT,
    by_name,
    of_kind,
    pod_spec,
    rendered_overlay,
    tandem_images,
)

from services.eventkit import config
from services.eventkit.worker import worker_health_port
from tandem import cli

# How the code reads the environment: config.env/env_int/secret, web's _flag, os.environ.get.
LITERAL_READ = re.compile(
    r"""\b(?:env|env_int|secret|_flag|environ\.get|getenv)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
)
# Names built per service or process in config.py and worker.py: f"{service.upper()}_PORT", ...
PATTERN_READ = re.compile(r"""f["']\{(service|process)\.upper\(\)\}(_[A-Z0-9_]+)["']""")
# config's per-owner helpers called with a literal owner: config.database_url("web") reads
# WEB_DATABASE_URL (test_config_helpers_read_these_names holds the helpers to these suffixes).
HELPER_READ = re.compile(r"""\b(database_url|port|service_url)\(\s*["']([a-z]+)["']""")
HELPER_SUFFIX = {"database_url": "_DATABASE_URL", "port": "_PORT", "service_url": "_URL"}
# Read by the Python interpreter, not by Tandem.
INTERPRETER = {"PATH", "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE"}


def names_the_code_reads() -> set[str]:
    names: set[str] = set()
    expand = {"service": config.SERVICES, "process": tuple(config.DEFAULT_PORTS)}
    for folder in ("services", "web", "tandem"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            names |= set(LITERAL_READ.findall(text))
            for variable, suffix in PATTERN_READ.findall(text):
                names |= {f"{p.upper()}{suffix}" for p in expand[variable]}
            for helper, owner in HELPER_READ.findall(text):
                names.add(f"{owner.upper()}{HELPER_SUFFIX[helper]}")
    return names


def test_config_helpers_read_these_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_DATABASE_URL", "postgresql://web@db/web")
    monkeypatch.setenv("WEB_PORT", "9000")
    monkeypatch.setenv("WEB_URL", "http://web.test")
    assert config.database_url("web") == "postgresql://web@db/web"
    assert config.port("web") == 9000
    assert config.service_url("web") == "http://web.test"


@pytest.fixture(scope="module")
def read_by_code() -> set[str]:
    names = names_the_code_reads()
    # The scan must see what the README documents, or it is not looking at the right code.
    assert {"KAFKA_BOOTSTRAP_SERVERS", "TANDEM_SERVICE_TOKEN_KEY", "WEB_SECRET_KEY"} <= names
    assert {"PAIRING_DATABASE_URL", "WEB_PORT", "FEEDBACK_URL"} <= names
    assert "NOTIFICATIONS_WORKER_HEALTH_PORT" in names
    assert {"WEB_DATABASE_URL", "WEB_PUBLIC_URL"} <= names
    return names


@pytest.fixture(scope="module")
def manifests() -> dict[str, list[dict[str, Any]]]:
    return {overlay: rendered_overlay(overlay) for overlay in ("dev", "production")}


def kubernetes_env_names(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Workload name -> every variable its containers get (env and envFrom ConfigMaps).

    Secrets named in envFrom are created by the operator, so their keys are not known here."""
    config_maps = by_name(objects, "ConfigMap")
    result = {}
    for workload in of_kind(objects, "Deployment") + of_kind(objects, "Job"):
        names: set[str] = set()
        for container in pod_spec(workload)["containers"]:
            names |= {item["name"] for item in container.get("env", [])}
            for source in container.get("envFrom", []):
                if "configMapRef" in source:
                    names |= set(config_maps[source["configMapRef"]["name"]]["data"])
        result[workload["metadata"]["name"]] = names
    return result


def test_kubernetes_sets_only_variables_the_code_reads(
    manifests: dict[str, list[dict[str, Any]]], read_by_code: set[str]
) -> None:
    for overlay, objects in manifests.items():
        for workload, names in kubernetes_env_names(objects).items():
            assert names <= read_by_code, f"{overlay} {workload}: {names - read_by_code}"


def test_compose_sets_only_variables_the_code_reads(
    compose: dict[str, Any], read_by_code: set[str]
) -> None:
    for name, svc in tandem_images(compose).items():
        unknown = set(svc["environment"]) - read_by_code
        assert not unknown, f"{name}: {unknown}"


def test_dockerfile_sets_only_variables_the_code_reads(read_by_code: set[str]) -> None:
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    names = set()
    for line in text.splitlines():
        if line.startswith("ENV "):
            names |= set(re.findall(r"([A-Z_][A-Z0-9_]*)=", line))
    assert "TANDEM_VAR_DIR" in names
    # The build stage's PIP_* settings are read by pip, not by Tandem.
    tandem = {n for n in names - INTERPRETER if not n.startswith("PIP_")}
    assert tandem <= read_by_code, tandem - read_by_code


def test_every_process_gets_its_database_and_keys(
    manifests: dict[str, list[dict[str, Any]]], compose: dict[str, Any]
) -> None:
    for objects in manifests.values():
        env = kubernetes_env_names(objects)
        for service in config.SERVICES:
            for workload in (f"tandem-{service}-api", f"tandem-{service}-worker"):
                assert {
                    f"{service.upper()}_DATABASE_URL",
                    "TANDEM_SERVICE_TOKEN_KEY",
                    "TANDEM_AUDIT_KEY",
                    "KAFKA_BOOTSTRAP_SERVERS",
                    "TANDEM_ENV",
                } <= env[workload]
        assert {
            "TANDEM_SERVICE_TOKEN_KEY",
            "WEB_SECRET_KEY",
            "TANDEM_ENV",
            "WEB_DATABASE_URL",
            "WEB_PUBLIC_URL",
        } <= env["tandem-web"]
        assert {f"{s.upper()}_URL" for s in config.SERVICES} <= env["tandem-web"]
        for owner in DATABASE_OWNERS:
            assert {f"{owner.upper()}_DATABASE_URL", "TANDEM_ENV"} <= env[f"tandem-{owner}-migrate"]
    web = compose["services"]["web"]["environment"]
    assert {"TANDEM_SERVICE_TOKEN_KEY", "WEB_SECRET_KEY", "WEB_DATABASE_URL"} <= set(web)
    assert "WEB_PUBLIC_URL" in web


def test_database_urls_come_from_the_owners_cluster(
    manifests: dict[str, list[dict[str, Any]]],
) -> None:
    """Every `<OWNER>_DATABASE_URL` is the `uri` of the Secret CloudNativePG writes for that owner's
    cluster, and a workload gets only its owner's: the web's pods the web's, a service's its own."""
    for objects in manifests.values():
        clusters = set(by_name(objects, "Cluster"))
        for workload in of_kind(objects, "Deployment") + of_kind(objects, "Job"):
            name = workload["metadata"]["name"]
            owner = next((o for o in DATABASE_OWNERS if name.startswith(f"tandem-{o}")), None)
            assert owner, f"{name}: whose workload is this?"
            for container in pod_spec(workload)["containers"]:
                urls = {
                    e["name"]: e["valueFrom"]["secretKeyRef"]
                    for e in container.get("env", [])
                    if e["name"].endswith("_DATABASE_URL")
                }
                assert urls == {
                    f"{owner.upper()}_DATABASE_URL": {
                        "name": f"tandem-{owner}-db-app",
                        "key": "uri",
                    }
                }, name
                assert f"tandem-{owner}-db" in clusters


def test_web_public_url_is_where_people_reach_the_web(
    manifests: dict[str, list[dict[str, Any]]],
) -> None:
    expected = {"dev": "http://tandem.localhost"}
    for overlay, objects in manifests.items():
        (ingress,) = of_kind(objects, "Ingress")
        (rule,) = ingress["spec"]["rules"]
        url = by_name(objects, "ConfigMap")["tandem-web-config"]["data"]["WEB_PUBLIC_URL"]
        # Production: https://<the Ingress host> (a kustomize replacement keeps them together).
        assert url == expected.get(overlay, f"https://{rule['host']}"), overlay
        assert url.rstrip("/").split("//", 1)[1] == rule["host"]
        web = pod_spec(by_name(objects, "Deployment")["tandem-web"])["containers"][0]
        assert {"configMapRef": {"name": "tandem-web-config"}} in web["envFrom"]


def expected_topics() -> set[str]:
    main = {config.topic(s) for s in config.SERVICES}
    return main | {config.dlq_topic(t) for t in main}


def test_kafka_topics_are_the_ones_the_code_uses(
    manifests: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KAFKA_TOPIC_PREFIX", raising=False)
    assert expected_topics() == {
        "tandem.enrollment.v1",
        "tandem.pairing.v1",
        "tandem.feedback.v1",
        "tandem.notifications.v1",
        "tandem.enrollment.v1.dlq",
        "tandem.pairing.v1.dlq",
        "tandem.feedback.v1.dlq",
        "tandem.notifications.v1.dlq",
    }
    used_by_services = {t for s in config.SERVICES for t in cli.load_service(s).topics()}
    for objects in manifests.values():
        topics = {t["spec"]["topicName"]: t for t in of_kind(objects, "KafkaTopic")}
        assert set(topics) == expected_topics()
        assert used_by_services <= set(topics)


def test_partitions_bound_the_consumers(manifests: dict[str, list[dict[str, Any]]]) -> None:
    for objects in manifests.values():
        partitions = {
            t["spec"]["topicName"]: t["spec"]["partitions"] for t in of_kind(objects, "KafkaTopic")
        }
        configured = int(
            by_name(objects, "ConfigMap")["tandem-kafka-config"]["data"]["KAFKA_TOPIC_PARTITIONS"]
        )
        # A worker that finds a topic missing creates it with KAFKA_TOPIC_PARTITIONS and
        # KAFKA_TOPIC_REPLICATION_FACTOR: both must agree with the KafkaTopics.
        assert set(partitions.values()) == {configured}
        kafka_config = by_name(objects, "ConfigMap")["tandem-kafka-config"]["data"]
        replicas = {t["spec"]["replicas"] for t in of_kind(objects, "KafkaTopic")}
        assert replicas == {int(kafka_config["KAFKA_TOPIC_REPLICATION_FACTOR"])}
        hpas = {
            h["spec"]["scaleTargetRef"]["name"]: h
            for h in of_kind(objects, "HorizontalPodAutoscaler")
        }
        for service in config.SERVICES:
            subscriptions = cli.load_service(service).subscriptions
            hpa = hpas.get(f"tandem-{service}-worker")
            if not subscriptions:
                assert hpa is None  # a relay-only worker gains nothing from more replicas
                continue
            assert hpa["spec"]["maxReplicas"] <= min(partitions[t] for t in subscriptions)


def named_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    (match,) = [p["containerPort"] for p in container["ports"] if p["name"] == port]
    return match


def probe_ports(container: dict[str, Any]) -> set[int]:
    return {
        named_port(container, container[probe]["httpGet"]["port"])
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
        if probe in container
    }


def test_ports_are_the_code_defaults(
    manifests: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    for process in config.DEFAULT_PORTS:
        monkeypatch.delenv(f"{process.upper()}_PORT", raising=False)
        monkeypatch.delenv(f"{process.upper()}_WORKER_HEALTH_PORT", raising=False)
    for objects in manifests.values():
        deployments = by_name(objects, "Deployment")
        services = by_name(objects, "Service")
        web_env = {}
        for process, port in config.DEFAULT_PORTS.items():
            if process == "web":
                api_name = "tandem-web"
            else:
                api_name = f"tandem-{process}-api"
                (worker,) = pod_spec(deployments[f"tandem-{process}-worker"])["containers"]
                assert worker["args"] == [process, "consume"]
                assert [p["containerPort"] for p in worker["ports"]] == [port + 100]
                assert probe_ports(worker) == {worker_health_port(process)} == {port + 100}
            (api,) = pod_spec(deployments[api_name])["containers"]
            assert [p["containerPort"] for p in api["ports"]] == [port]
            assert probe_ports(api) == {port}
            assert [p["port"] for p in services[api_name]["spec"]["ports"]] == [port]
            web_env = {
                e["name"]: e.get("value")
                for e in pod_spec(deployments["tandem-web"])["containers"][0]["env"]
            }
            if process != "web":
                assert api["args"] == [process, "api"]
                assert web_env[f"{process.upper()}_URL"] == f"http://{api_name}:{port}"
                policy = by_name(objects, "NetworkPolicy")[api_name]
                assert policy["spec"]["ingress"][0]["ports"][0]["port"] == port


def test_compose_urls_use_the_default_ports(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]["environment"]
    for service in config.SERVICES:
        port = config.DEFAULT_PORTS[service]
        assert web[f"{service.upper()}_URL"] == f"http://{service}-api:{port}"
    assert compose["services"]["web"]["ports"][0].endswith(f":{config.DEFAULT_PORTS['web']}")


def deployed_commands(compose: dict[str, Any]) -> set[tuple[str, ...]]:
    """Every `tandem` command line a container runs: compose commands, Kubernetes args."""
    commands = {tuple(svc["command"]) for svc in tandem_images(compose).values()}
    for overlay in ("dev", "production"):
        objects = rendered_overlay(overlay)
        for workload in of_kind(objects, "Deployment") + of_kind(objects, "Job"):
            commands |= {tuple(c["args"]) for c in pod_spec(workload)["containers"]}
    return commands


def test_commands_are_tandem_commands(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command is accepted by the real `tandem` parser (tandem.cli), whatever its shape."""
    commands = deployed_commands(compose)
    assert ("web", "migrate") in commands and ("enrollment", "consume") in commands
    # For the in-process parse below: the dispatch (which would run the command) only records.
    parsed: list[Any] = []
    monkeypatch.setattr(cli, "_dispatch", lambda args: parsed.append(args) or 0)
    for command in sorted(commands):
        # The command line the image's entrypoint would run, stopped by --help before any work.
        result = subprocess.run(
            [sys.executable, "-m", "tandem.cli", *command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=ROOT,
        )
        assert result.returncode == 0, f"tandem {' '.join(command)}: {result.stderr}"
        # --help exits before required arguments are checked: parse in full as well.
        parsed.clear()
        try:
            assert cli.main(list(command)) == 0, command
        except SystemExit as exc:  # argparse rejects the command line
            pytest.fail(f"tandem {' '.join(command)}: exit {exc.code}")
        assert parsed[0].command == command[0]


def test_a_malformed_command_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check above can fail: argparse rejects what `tandem` does not accept."""
    monkeypatch.setattr(cli, "_dispatch", lambda args: 0)
    for bad in (["web", "serve-forever"], ["enrollment"], ["pairing", "api", "extra"], ["nope"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(bad)
        assert exc.value.code == 2, bad


def test_readme_covers_the_operations() -> None:
    readme = Path(ROOT / "deploy" / "README.md").read_text()
    for phrase in (
        "tandem <service> migrate",
        "tandem <service> republish",
        "tandem <service> rebuild --from-topics",
        "pg_dump",
        "pg_restore",
        "ScheduledBackup",
        "KafkaTopic",
        "--scale",
        "TANDEM_SERVICE_TOKEN_KEY",
        "WEB_SECRET_KEY",
        "SMTP",
        "OIDC",
        "WEB_DATABASE_URL",
        "WEB_DB_PASSWORD",
        "WEB_PUBLIC_URL",
        "tandem web migrate",
        "tandem web account --email",
        "consortium_admin",
        "tandem-web-db",
    ):
        assert phrase in readme, phrase
