"""The Kubernetes manifests: every overlay renders with kustomize, every object validates against
the Kubernetes schemas, and the rendered workloads keep the promises of deploy/README.md
(hardened pods, probes, requests and limits, autoscalers, disruption budgets, network isolation,
TLS, no committed secrets)."""

from __future__ import annotations

import base64
import re
from typing import Any

import kubernetes_validate
import pytest
from deploy_support import (
    DATABASE_OWNERS,
    DEPLOY,
    by_name,
    of_kind,
    pod_spec,
    rendered_overlay,
)

from services.eventkit import config

# The oldest Kubernetes the manifests are written for (HPA v2, PDB v1, matchLabelKeys in spread
# constraints, seccompProfile fields): validate against its published OpenAPI schemas.
KUBERNETES_VERSION = "1.32.0"

# Operator kinds, validated by their operators' CRD schemas in the cluster. Those schemas are on
# no package registry this project uses, so kubernetes-validate skips them by name (see
# deploy/README.md); test_operator_resources below checks the fields Tandem depends on.
CRD_KINDS = {
    ("kafka.strimzi.io", "Kafka"),
    ("kafka.strimzi.io", "KafkaNodePool"),
    ("kafka.strimzi.io", "KafkaTopic"),
    ("postgresql.cnpg.io", "Cluster"),
    ("postgresql.cnpg.io", "ScheduledBackup"),
    ("barmancloud.cnpg.io", "ObjectStore"),
}

# Created by the operator before the first apply (documented in deploy/README.md), or by the dev
# overlay's secretGenerator. The database Secrets are written by CloudNativePG.
OPERATOR_SECRETS = {"tandem-service-token", "tandem-web", "tandem-audit", "tandem-keyring"}
# The keyring's cluster: every service's data keys, outside their own databases.
KEYRING = "keyring"
CLUSTER_OWNERS = (*DATABASE_OWNERS, KEYRING)


def group_of(obj: dict[str, Any]) -> str:
    api_version = obj["apiVersion"]
    return api_version.split("/")[0] if "/" in api_version else ""


def deployments(rendered: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return by_name(rendered, "Deployment")


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels", {})
    return all(labels.get(key) == value for key, value in wanted.items())


def test_overlay_renders_objects(rendered: list[dict[str, Any]]) -> None:
    kinds = {o["kind"] for o in rendered}
    for kind in ("Deployment", "Job", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert kind in kinds
    for kind in ("NetworkPolicy", "Ingress", "Kafka", "KafkaNodePool", "KafkaTopic", "Cluster"):
        assert kind in kinds


def test_every_object_validates_against_the_kubernetes_schema(
    rendered: list[dict[str, Any]],
) -> None:
    checked = 0
    for obj in rendered:
        if (group_of(obj), obj["kind"]) in CRD_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {exc.message} at {exc.path}")
        checked += 1
    assert checked > 40


def test_only_known_custom_kinds(rendered: list[dict[str, Any]]) -> None:
    """Anything the schema check skipped is one of the operator kinds named above."""
    builtin_groups = {"", "apps", "batch", "autoscaling", "policy", "networking.k8s.io"}
    for obj in rendered:
        if group_of(obj) not in builtin_groups:
            assert (group_of(obj), obj["kind"]) in CRD_KINDS, obj["kind"]


def test_everything_lands_in_the_overlay_namespace(overlay: str, rendered: list) -> None:
    namespace = {"dev": "tandem-dev", "production": "tandem"}[overlay]
    assert {o["metadata"].get("namespace") for o in rendered} == {namespace}


def test_pods_are_hardened(rendered: list[dict[str, Any]]) -> None:
    workloads = of_kind(rendered, "Deployment") + of_kind(rendered, "Job")
    assert len(workloads) == 4 * 3 + 2  # api, worker and migrate per service; web and its migrate
    for workload in workloads:
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True, name
            assert ctx["allowPrivilegeEscalation"] is False, name
            assert ctx["capabilities"]["drop"] == ["ALL"], name
            assert ctx["seccompProfile"]["type"] == "RuntimeDefault", name
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), name
            assert "memory" in resources["limits"], name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            # /tmp and TANDEM_VAR_DIR (the image sets it to /var/lib/tandem) stay writable.
            for path in ("/tmp", "/var/lib/tandem"):
                assert "emptyDir" in volumes[mounts[path]], (name, path)


def test_deployments_have_readiness_and_liveness_probes(rendered: list[dict[str, Any]]) -> None:
    for name, deployment in deployments(rendered).items():
        (container,) = pod_spec(deployment)["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name


def test_autoscalers_and_disruption_budgets(rendered: list[dict[str, Any]]) -> None:
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(rendered, "HorizontalPodAutoscaler")
    }
    pdbs = of_kind(rendered, "PodDisruptionBudget")
    for name, deployment in deployments(rendered).items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert [p for p in pdbs if selects(p["spec"]["selector"], labels)], f"no PDB for {name}"
        if name in hpas:
            assert "replicas" not in deployment["spec"], f"{name}: the HPA owns replicas"
            assert 1 <= hpas[name]["spec"]["minReplicas"] <= hpas[name]["spec"]["maxReplicas"]
    expected = {"tandem-web"} | {f"tandem-{s}-api" for s in config.SERVICES}
    # Every worker consumes topics (enrollment's for the consortium audit trail).
    expected |= {f"tandem-{s}-worker" for s in config.SERVICES}
    assert set(hpas) == expected


def test_network_policies_isolate_every_tier(rendered: list[dict[str, Any]]) -> None:
    policies = by_name(rendered, "NetworkPolicy")
    deny = policies["tandem-default-deny-ingress"]
    assert deny["spec"]["podSelector"] == {} and "ingress" not in deny["spec"]
    # The web's serving pods, not its migration Job (which shares the app name).
    web_pods = {"app.kubernetes.io/name": "tandem-web", "app.kubernetes.io/component": "web"}
    web_only = [{"podSelector": {"matchLabels": web_pods}}]
    for service in config.SERVICES:
        api = policies[f"tandem-{service}-api"]["spec"]
        assert [rule["from"] for rule in api["ingress"]] == [web_only]
    workloads = of_kind(rendered, "Deployment") + of_kind(rendered, "Job")
    pod_labels = {
        w["metadata"]["name"]: w["spec"]["template"]["metadata"]["labels"] for w in workloads
    }
    owner_pods = {
        **{s: {"podSelector": {"matchLabels": {"tandem/service": s}}} for s in config.SERVICES},
        "web": {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "tandem-web"}}},
    }
    for owner in DATABASE_OWNERS:
        cluster = f"tandem-{owner}-db"
        db = policies[cluster]["spec"]
        assert db["podSelector"]["matchLabels"] == {"cnpg.io/cluster": cluster}
        assert db["policyTypes"] == ["Ingress"]
        app_rules = [r for r in db["ingress"] if {"port": 5432, "protocol": "TCP"} in r["ports"]]
        peers = [peer for rule in app_rules for peer in rule["from"]]
        # The owner's own pods and the cluster's own instances (replication); nothing else.
        assert peers == [
            owner_pods[owner],
            {"podSelector": {"matchLabels": {"cnpg.io/cluster": cluster}}},
        ]
        # Which workloads that admits: exactly the owner's (API, worker, web, migration Job).
        admitted = {
            n for n, labels in pod_labels.items() if selects(peers[0]["podSelector"], labels)
        }
        assert admitted == {n for n in pod_labels if n.startswith(f"tandem-{owner}-")} | (
            {"tandem-web"} if owner == "web" else set()
        ), owner
        # The operator reaches the instance manager; nothing else gets further ports.
        others = [r for r in db["ingress"] if r not in app_rules]
        assert {p["port"] for r in others for p in r["ports"]} == {8000}
    # The keyring admits every service's pods and the cluster's own instances; never the web.
    keyring = policies[f"tandem-{KEYRING}-db"]["spec"]
    app_rules = [r for r in keyring["ingress"] if {"port": 5432, "protocol": "TCP"} in r["ports"]]
    peers = [peer for rule in app_rules for peer in rule["from"]]
    assert peers[:-1] == [owner_pods[s] for s in config.SERVICES]
    assert peers[-1] == {"podSelector": {"matchLabels": {"cnpg.io/cluster": "tandem-keyring-db"}}}
    admitted = {
        n
        for n, labels in pod_labels.items()
        if any(selects(p["podSelector"], labels) for p in peers[:-1])
    }
    assert admitted == {
        n for n in pod_labels if n != "tandem-web" and not n.startswith("tandem-web-")
    }
    # The service APIs admit the web's serving pods and nothing else of Tandem's.
    assert {
        n for n, labels in pod_labels.items() if selects(web_only[0]["podSelector"], labels)
    } == {"tandem-web"}
    for name, deployment in deployments(rendered).items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        is_service_pod = "tandem/service" in labels
        assert (labels.get("tandem/kafka-client") == "true") == is_service_pod, name
        if name == "tandem-web":
            assert "tandem/service" not in labels  # the web reaches no service's database
    # Kafka admits only the service pods (Strimzi generates the policy from these peers).
    (kafka,) = of_kind(rendered, "Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["networkPolicyPeers"] == [
        {"podSelector": {"matchLabels": {"tandem/kafka-client": "true"}}}
    ]


def test_only_the_web_is_exposed_through_an_ingress_with_tls(rendered: list) -> None:
    for service in of_kind(rendered, "Service"):
        assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    (ingress,) = of_kind(rendered, "Ingress")
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    tls_hosts = {host for tls in ingress["spec"]["tls"] for host in tls["hosts"]}
    assert hosts <= tls_hosts
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"tandem-web"}


def test_migration_job_per_service_and_the_web(rendered: list[dict[str, Any]]) -> None:
    jobs = by_name(rendered, "Job")
    assert set(jobs) == {f"tandem-{owner}-migrate" for owner in DATABASE_OWNERS}
    for owner in DATABASE_OWNERS:
        job = jobs[f"tandem-{owner}-migrate"]
        (container,) = pod_spec(job)["containers"]
        assert container["args"] == [owner, "migrate"]
        assert container["image"].split("/")[-1].split(":")[0] == f"tandem-{owner}"
        assert pod_spec(job)["restartPolicy"] == "Never"
        # README "Install"/"Upgrade" select the Jobs by this label.
        assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migrate"


def secret_refs(rendered: list[dict[str, Any]]) -> set[str]:
    names = set()
    for workload in of_kind(rendered, "Deployment") + of_kind(rendered, "Job"):
        for container in pod_spec(workload)["containers"]:
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    names.add(ref["name"])
    return names


def test_secrets_are_referenced_never_committed(overlay: str, rendered: list) -> None:
    databases = {f"tandem-{owner}-db-app" for owner in CLUSTER_OWNERS}
    assert secret_refs(rendered) == OPERATOR_SECRETS | databases
    clusters = set(by_name(rendered, "Cluster"))
    assert {f"{name}-app" for name in clusters} == databases  # CloudNativePG writes these
    secrets = of_kind(rendered, "Secret")
    if overlay == "production":
        assert secrets == []
    else:
        # The dev overlay's generated keys must say what they are.
        assert {s["metadata"]["name"] for s in secrets} == OPERATOR_SECRETS
        for secret in secrets:
            assert secret["metadata"]["labels"]["tandem/dev-only"] == "true"
            for value in secret["data"].values():
                assert base64.b64decode(value).decode().startswith("dev-only-insecure")


def test_readme_tells_how_to_create_each_secret() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for name in [*OPERATOR_SECRETS, "tandem-backup-credentials", "tandem-tls"]:
        assert re.search(rf"create secret \w+ {name}\b", readme), name


def test_images_are_pinned_in_production() -> None:
    for workload in of_kind(rendered_overlay("production"), "Deployment"):
        for container in pod_spec(workload)["containers"]:
            image = container["image"]
            assert "/" in image and re.search(r":\d+\.\d+\.\d+$", image), image


def test_operator_resources(rendered: list[dict[str, Any]]) -> None:
    """The fields of the Strimzi and CloudNativePG resources that Tandem depends on."""
    (kafka,) = of_kind(rendered, "Kafka")
    assert kafka["metadata"]["name"] == "tandem"
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    assert "topicOperator" in kafka["spec"]["entityOperator"]
    (pool,) = of_kind(rendered, "KafkaNodePool")
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}  # KRaft, no ZooKeeper
    assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "tandem"
    replicas = pool["spec"]["replicas"]
    for topic in of_kind(rendered, "KafkaTopic"):
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "tandem"
        assert topic["spec"]["replicas"] <= replicas
        assert topic["spec"]["config"]["min.insync.replicas"] <= topic["spec"]["replicas"]
    clusters = by_name(rendered, "Cluster")
    assert set(clusters) == {f"tandem-{owner}-db" for owner in CLUSTER_OWNERS}
    for owner in CLUSTER_OWNERS:
        cluster = clusters[f"tandem-{owner}-db"]
        assert cluster["spec"]["bootstrap"]["initdb"] == {"database": owner, "owner": owner}
        assert re.search(r":\d+\.\d+$", cluster["spec"]["imageName"])
        # Every cluster's pods carry the component the README's install step selects.
        assert cluster["metadata"]["labels"]["app.kubernetes.io/component"] == "database"


def test_production_backs_up_every_database(overlay: str, rendered: list) -> None:
    clusters = by_name(rendered, "Cluster")
    backups = of_kind(rendered, "ScheduledBackup")
    if overlay != "production":
        assert backups == []
        return
    (store,) = of_kind(rendered, "ObjectStore")
    assert {b["spec"]["cluster"]["name"] for b in backups} == set(clusters)
    assert len(backups) == len(clusters) == len(CLUSTER_OWNERS)
    for backup in backups:
        assert backup["spec"]["method"] == "plugin"
        assert backup["spec"]["pluginConfiguration"]["name"] == "barman-cloud.cloudnative-pg.io"
    for name, cluster in clusters.items():
        (plugin,) = cluster["spec"]["plugins"]
        assert plugin["isWALArchiver"] is True, name
        assert plugin["parameters"]["barmanObjectName"] == store["metadata"]["name"], name
