"""deploy/docker/Dockerfile passes hadolint and builds one image per service and the web from
one source tree; the image's HEALTHCHECK script finds the right /healthz for each process."""

from __future__ import annotations

import importlib.util
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import ModuleType

import pytest
from deploy_support import DOCKERFILE, HEALTHCHECK, ROOT, run, tool

from services.eventkit import config
from services.eventkit.worker import worker_health_port

BASE_IMAGE = re.compile(r"^python:3\.11\.\d+-slim-bookworm$")


def stages() -> dict[str, list[str]]:
    """Dockerfile instructions grouped by stage name."""
    result: dict[str, list[str]] = {}
    current: list[str] = []
    for line in re.sub(r"\\\n", " ", DOCKERFILE.read_text()).splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.match(r"FROM (\S+) AS (\S+)", line)
        if match:
            current = result.setdefault(match.group(2), [line])
        else:
            current.append(line)
    return result


def test_hadolint_passes() -> None:
    result = run([tool("hadolint"), "--no-color", str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_pinned_non_root_with_healthcheck() -> None:
    found = stages()
    for name in ("build", "runtime"):
        base = found[name][0].split()[1]
        assert BASE_IMAGE.match(base), base
    runtime = found["runtime"]
    assert "USER 10001:10001" in runtime
    assert any(i.startswith("HEALTHCHECK ") and "tandem-healthcheck" in i for i in runtime)
    assert 'ENTRYPOINT ["tandem"]' in runtime
    assert any(i.startswith("COPY --from=build /opt/tandem") for i in runtime)


def test_one_target_per_service_and_the_web() -> None:
    found = stages()
    for service in config.SERVICES:
        instructions = found[service]
        assert instructions[0] == f"FROM runtime AS {service}"
        assert f'CMD ["{service}", "api"]' in instructions
        api, health = config.DEFAULT_PORTS[service], config.DEFAULT_PORTS[service] + 100
        assert f"EXPOSE {api} {health}" in instructions
    assert found["web"] == ["FROM runtime AS web", "EXPOSE 8000", 'CMD ["web"]']
    assert list(found)[-1] == "web"  # the default target


def test_dockerignore_sends_only_the_sources() -> None:
    text = (ROOT / ".dockerignore").read_text()
    entries = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    assert entries[0] == "*"  # an allow-list: local state (.venv, var/, .env) stays out
    copied = re.findall(r"^COPY (?!--from)(?:--\S+ )*(\S+)", DOCKERFILE.read_text(), re.M)
    assert copied
    for source in copied:
        assert f"!{source}" in entries or f"!{source}/" in entries, source


@pytest.fixture(scope="module")
def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tandem_healthcheck", HEALTHCHECK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("service", config.SERVICES)
def test_healthcheck_port_follows_the_command(
    healthcheck: ModuleType, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (f"{service.upper()}_PORT", f"{service.upper()}_WORKER_HEALTH_PORT"):
        monkeypatch.delenv(name, raising=False)
    entry = ["/opt/tandem/bin/python", "/opt/tandem/bin/tandem"]
    assert healthcheck.health_port([*entry, service, "api"]) == config.DEFAULT_PORTS[service]
    # Under `init: true`, PID 1 is docker-init with the command after "--".
    worker = ["/sbin/docker-init", "--", "tandem", service, "consume"]
    assert healthcheck.health_port(worker) == worker_health_port(service)
    assert healthcheck.health_port([*entry, service, "migrate"]) is None
    monkeypatch.setenv(f"{service.upper()}_PORT", "9001")
    assert healthcheck.health_port(["tandem", service, "consume"]) == 9101
    assert healthcheck.health_port(["tandem", service, "consume"]) == worker_health_port(service)


def test_healthcheck_web_and_one_shots(
    healthcheck: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WEB_PORT", raising=False)
    assert healthcheck.health_port(["tandem", "web"]) == config.DEFAULT_PORTS["web"]
    assert healthcheck.health_port(["tandem", "web", "serve"]) == config.DEFAULT_PORTS["web"]
    for one_shot in (
        ["tandem", "topics"],
        ["tandem", "demo"],
        ["tandem", "migrate"],
        ["tandem", "web", "migrate"],
        ["/sbin/docker-init", "--", "tandem", "web", "account", "--email", "a@b.org"],
    ):
        assert healthcheck.health_port(one_shot) is None, one_shot


@pytest.fixture
def health_server() -> Iterator[tuple[int, dict[str, int]]]:
    state = {"status": 200}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(state["status"] if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1], state
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_asks_healthz(
    healthcheck: ModuleType,
    health_server: tuple[int, dict[str, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port, state = health_server
    monkeypatch.setenv("PAIRING_WORKER_HEALTH_PORT", str(port))
    monkeypatch.setattr("sys.argv", ["tandem-healthcheck", "pairing", "consume"])
    assert healthcheck.main() == 0
    state["status"] = 503
    assert healthcheck.main() == 1
    monkeypatch.setattr("sys.argv", ["tandem-healthcheck", "pairing", "migrate"])
    assert healthcheck.main() == 0
