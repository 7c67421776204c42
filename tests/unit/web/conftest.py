"""Fixtures for the web tests: an isolated environment and real fake services over HTTP."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from services.eventkit import config
from services.eventkit.auth import InvalidToken, Principal, TokenSigner
from web.app import create_app

ENV_TO_CLEAR = (
    "WEB_SECRET_KEY",
    "WEB_BEHIND_PROXY",
    "WEB_INSECURE_COOKIES",
    "TANDEM_ENV",
    "TANDEM_SERVICE_TOKEN_KEY",
    "TANDEM_TOKEN_TTL_SECONDS",
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
    """Build the app from the environment as it is when called."""

    def build(**kwargs: Any) -> FlaskClient:
        return create_app().test_client(**kwargs)

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
