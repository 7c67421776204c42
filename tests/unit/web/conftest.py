"""Fixtures for the web tests: an isolated environment and real fake services over HTTP."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request
from flask.testing import FlaskClient
from web_support import sign_in_as
from werkzeug.serving import make_server

from services.eventkit import config
from services.eventkit.auth import ADMIN, Grant, InvalidToken, Principal, TokenSigner
from web.app import create_app
from web.db import migrate

ENV_TO_CLEAR = (
    "WEB_SECRET_KEY",
    "WEB_DATABASE_URL",
    "WEB_PUBLIC_URL",
    "WEB_BEHIND_PROXY",
    "WEB_INSECURE_COOKIES",
    "TANDEM_ENV",
    "TANDEM_SERVICE_TOKEN_KEY",
    "TANDEM_TOKEN_TTL_SECONDS",
    "WEB_OIDC_PROVIDERS",
)


def url_env(service: str) -> str:
    return f"{service.upper()}_URL"


@pytest.fixture
def point(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """Point one service's URL (as config.service_url reads it) somewhere."""

    def set_url(service: str, url: str) -> None:
        monkeypatch.setenv(url_env(service), url)

    return set_url


@pytest.fixture
def dead_url() -> str:
    """A localhost URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def web_env(monkeypatch: pytest.MonkeyPatch, tmp_path, dead_url: str) -> None:
    """Keys under tmp_path, and every service pointed at a dead port unless a test says otherwise."""
    monkeypatch.setenv("TANDEM_VAR_DIR", str(tmp_path / "var"))
    for name in ENV_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    for service in config.SERVICES:
        monkeypatch.setenv(url_env(service), dead_url)


@pytest.fixture
def make_client() -> Callable[..., FlaskClient]:
    """Build the app from the environment as it is when called, on a migrated web database."""

    def build(**kwargs: Any) -> FlaskClient:
        migrate()
        return create_app().test_client(**kwargs)

    return build


@pytest.fixture
def staff_client(make_client) -> Callable[..., FlaskClient]:
    """A client signed in as the consortium admin."""

    def build(**kwargs: Any) -> FlaskClient:
        client = make_client(**kwargs)
        sign_in_as(client, Grant(ADMIN))
        return client

    return build


@dataclasses.dataclass
class FakeService:
    """A stand-in service on a real socket; tests change its answers through the fields."""

    name: str
    url: str = ""
    ready: bool = True
    counts: dict[str, Any] = dataclasses.field(default_factory=dict)
    stats_body: Any = None
    callers: list[Principal] = dataclasses.field(default_factory=list)
    rejected: int = 0


def _fake_app(fake: FakeService, signer: TokenSigner) -> Flask:
    app = Flask(f"fake-{fake.name}")

    @app.get("/healthz")
    def healthz():
        return {"status": "alive", "service": fake.name}

    @app.get("/readyz")
    def readyz():
        return {"ready": fake.ready, "checks": {"database": fake.ready}}, (
            200 if fake.ready else 503
        )

    @app.get("/api/stats")
    def stats():
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise InvalidToken("no bearer token")
            principal = signer.verify(token.strip())
        except InvalidToken as exc:
            fake.rejected += 1
            return {"code": 401, "message": str(exc)}, 401
        fake.callers.append(principal)
        if fake.stats_body is not None:
            return fake.stats_body
        return {"service": fake.name, "counts": fake.counts}

    return app


@pytest.fixture
def start_service(web_env: None) -> Iterator[Callable[..., FakeService]]:
    """Start fake services in background threads; by default they trust the web's token key."""
    servers: list[tuple[Any, threading.Thread]] = []

    def start(name: str = "enrollment", *, key: str | None = None, **fields: Any) -> FakeService:
        fake = FakeService(name=name, **fields)
        signer = TokenSigner(key or config.token_key(), config.token_ttl_seconds())
        server = make_server("127.0.0.1", 0, _fake_app(fake, signer), threaded=True)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        servers.append((server, thread))
        fake.url = f"http://127.0.0.1:{server.server_port}"
        return fake

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclasses.dataclass
class RealEnrollment:
    """The real enrollment API on a migrated SQLite database, served over HTTP in a thread."""

    url: str

    def _headers(self) -> dict[str, str]:
        token = TokenSigner(config.token_key()).mint(Principal("admin-1", (Grant(ADMIN),)))
        return {"Authorization": f"Bearer {token}"}

    def call(self, method: str, path: str, body: dict | None = None) -> Any:
        response = requests.request(
            method, self.url + path, json=body, headers=self._headers(), timeout=10
        )
        assert response.status_code < 300, response.text
        return response.json()

    def institution(self, name: str = "Northfield", code: str = "NUH") -> str:
        body = {"name": name, "short_code": code, "time_zone": "UTC"}
        return self.call("POST", "/api/institutions", body)["id"]

    def person(self, institution_id: str, email: str, name: str = "Ada Example") -> str:
        body = {
            "institution_id": institution_id,
            "name": name,
            "email": email,
            "training_level": "PGY1",
        }
        return self.call("POST", "/api/people", body)["id"]

    def grant(self, person_id: str, role: str, institution_id: str | None) -> None:
        body = {"role": role, "institution_id": institution_id}
        self.call("POST", f"/api/people/{person_id}/roles", body)

    def revoke(self, person_id: str, role: str, institution_id: str | None) -> None:
        body = {"role": role, "institution_id": institution_id}
        self.call("POST", f"/api/people/{person_id}/roles/revoke", body)


@pytest.fixture
def enrollment(tmp_path, point, web_env: None) -> Iterator[RealEnrollment]:
    from services.enrollment.app import create_app as create_enrollment_app
    from services.enrollment.service import SERVICE
    from services.eventkit.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'enrollment.db'}"
    upgrade(SERVICE.migrations, url)
    app = create_enrollment_app(url)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    point("enrollment", base)
    try:
        yield RealEnrollment(base)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        app.extensions["tandem"].engine.dispose()
