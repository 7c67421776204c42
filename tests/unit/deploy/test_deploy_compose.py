"""deploy/docker-compose.yml: valid against the Compose specification, and wired as the README
says (start-up order, one-shots, health checks, named volumes, a database per service and for the
web, secrets only from deploy/.env)."""

from __future__ import annotations

import re
from typing import Any

from deploy_support import COMPOSE_FILE, DATABASE_OWNERS, DEPLOY, run, tandem_images, tool

from services.eventkit import config

INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(:?[-?][^}]*)?\}")
SECRETS = {
    "TANDEM_SERVICE_TOKEN_KEY",
    "TANDEM_AUDIT_KEY",
    "TANDEM_KEYRING_KEY",
    "KEYRING_DB_PASSWORD",
    "WEB_SECRET_KEY",
    "POSTGRES_PASSWORD",
    *(f"{owner.upper()}_DB_PASSWORD" for owner in DATABASE_OWNERS),
}


def test_validates_against_the_compose_specification() -> None:
    # check-jsonschema vendors the compose-spec schema: no network needed.
    result = run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_tandem_container_runs_in_production_mode(compose: dict[str, Any]) -> None:
    containers = tandem_images(compose)
    # api, worker, migrate per service; web and web-migrate; topics, demo
    assert len(containers) == 4 * 3 + 4
    for name, svc in containers.items():
        assert svc["environment"]["TANDEM_ENV"] == "production", name
        assert svc["read_only"] is True and svc["cap_drop"] == ["ALL"], name
        assert set(svc["tmpfs"]) == {"/tmp", "/var/lib/tandem"}, name


def test_images_and_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in config.SERVICES:
        for suffix, action in (("api", "api"), ("worker", "consume"), ("migrate", "migrate")):
            svc = services[f"{service}-{suffix}"]
            assert svc["command"] == [service, action]
            assert svc["image"].startswith(f"tandem-{service}:")
            assert svc["build"]["target"] == service
            assert svc["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert services["web"]["command"] == ["web"]
    web_migrate = services["web-migrate"]
    assert web_migrate["command"] == ["web", "migrate"]
    assert web_migrate["image"].startswith("tandem-web:")
    assert web_migrate["build"] == services["web"]["build"]
    assert services["topics"]["command"] == ["topics"]
    assert services["demo"]["command"] == ["demo", "--no-accounts"]
    assert services["demo"]["profiles"] == ["demo"]


def test_each_container_sees_only_its_own_database(compose: dict[str, Any]) -> None:
    """A role and database per owner on the one server; each container gets only its owner's URL."""
    owner_of = {f"{o}-{suffix}": o for o in config.SERVICES for suffix in ("api", "worker")}
    owner_of |= {f"{o}-migrate": o for o in DATABASE_OWNERS} | {"web": "web"}
    for name, svc in tandem_images(compose).items():
        urls = {k: v for k, v in svc["environment"].items() if k.endswith("_DATABASE_URL")}
        owner = owner_of.get(name)
        if owner is None:  # topics, demo
            assert urls == {}, name
            continue
        password = f"{owner.upper()}_DB_PASSWORD"
        assert urls == {
            f"{owner.upper()}_DATABASE_URL": f"postgresql://{owner}:${{{password}:?set {password}"
            f" in deploy/.env}}@postgres:5432/{owner}"
        }, name
    # The server gets every password, for the init script.
    postgres = compose["services"]["postgres"]["environment"]
    assert {f"{o.upper()}_DB_PASSWORD" for o in DATABASE_OWNERS} <= set(postgres)


def test_web_public_url(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]["environment"]
    # Where the published port is reached by default; deploy/.env overrides it.
    assert web["WEB_PUBLIC_URL"] == "${WEB_PUBLIC_URL:-http://localhost:8000}"
    assert "#WEB_PUBLIC_URL=http://localhost:8000" in (DEPLOY / ".env.example").read_text()


def test_start_up_order(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for owner in DATABASE_OWNERS:
        migrate = services[f"{owner}-migrate"]
        assert migrate["restart"] == "no"
        assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for service in config.SERVICES:
        for suffix in ("api", "worker"):
            depends = services[f"{service}-{suffix}"]["depends_on"]
            assert depends[f"{service}-migrate"]["condition"] == "service_completed_successfully"
            assert depends["topics"]["condition"] == "service_completed_successfully"
            assert depends["kafka"]["condition"] == "service_healthy"
            assert "container_name" not in services[f"{service}-{suffix}"]  # scalable
    # The web: its own migrations have run (exit 0), and every API is healthy.
    web = {name: d["condition"] for name, d in services["web"]["depends_on"].items()}
    assert web == {
        "web-migrate": "service_completed_successfully",
        **{f"{s}-api": "service_healthy" for s in config.SERVICES},
    }
    for name in ("kafka", "postgres"):
        assert services[name]["healthcheck"]["test"]
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_only_the_web_and_the_mail_ui_are_published(compose: dict[str, Any]) -> None:
    published = {name for name, svc in compose["services"].items() if svc.get("ports")}
    assert published == {"web", "mailpit"}


def test_infrastructure_images_are_pinned(compose: dict[str, Any]) -> None:
    images = {name: svc["image"] for name, svc in compose["services"].items()}
    assert images["kafka"].startswith("apache/kafka:")
    for name in ("kafka", "postgres", "mailpit"):
        # A release tag (PostgreSQL's are major.minor), never a floating one such as latest.
        assert re.search(r":v?\d+\.\d+(\.\d+)?(-[a-z]+)?$", images[name]), images[name]


def test_kafka_runs_kraft_without_auto_create(compose: dict[str, Any]) -> None:
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert (
        env["KAFKA_NUM_PARTITIONS"]
        == compose["services"]["topics"]["environment"]["KAFKA_TOPIC_PARTITIONS"]
    )


def test_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    used = set()
    for svc in compose["services"].values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith("."):
                used.add(source)
    assert used == declared == {"kafka-data", "postgres-data", "mailpit-data"}


def test_secrets_only_come_from_the_env_file() -> None:
    text = COMPOSE_FILE.read_text()
    used = {m.group(1): m.group(2) or "" for m in INTERPOLATION.finditer(text)}
    for secret in SECRETS:
        assert used[secret].startswith(":?"), f"{secret} must be required, without a default"
    # No secret is ever written as a literal value.
    for line in text.splitlines():
        key, _, value = line.strip().partition(":")
        if key in SECRETS:
            assert value.strip().startswith("${"), line
    example = (DEPLOY / ".env.example").read_text()
    assigned = dict(
        line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#")
    )
    assert set(assigned) == SECRETS
    assert set(assigned.values()) == {"CHANGE_ME"}
    # Every optional setting compose reads is documented (commented out) in the example.
    for name in set(used) - SECRETS:
        assert f"#{name}=" in example, name
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_postgres_init_script_creates_a_role_and_database_per_owner() -> None:
    script = DEPLOY / "compose" / "postgres-init.sh"
    result = run(["bash", "-n", str(script)])
    assert result.returncode == 0, result.stderr
    text = script.read_text()
    assert f"for service in {' '.join(DATABASE_OWNERS)}; do" in text
    assert 'CREATE DATABASE :"role" OWNER :"role";' in text
    assert 'REVOKE ALL ON DATABASE :"role" FROM PUBLIC;' in text
