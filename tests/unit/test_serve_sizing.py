"""Workers and threads of the served processes, and the web's reuse of service tokens."""

from __future__ import annotations

import pytest

from services.eventkit import serve
from services.eventkit.auth import Grant, Principal, TokenSigner
from web.client import Client

KEY = "k" * 40


@pytest.fixture
def two_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve.os, "cpu_count", lambda: 2)
    for name in ("API", "WEB"):
        monkeypatch.delenv(f"TANDEM_{name}_WORKERS", raising=False)
        monkeypatch.delenv(f"TANDEM_{name}_THREADS", raising=False)


def test_an_api_worker_per_core_and_more_threads_for_the_web(two_cores: None) -> None:
    assert serve.sizing("enrollment") == (2, serve.API_THREADS)
    assert serve.sizing("web") == (1, serve.WEB_THREADS)
    assert serve.WEB_THREADS > serve.API_THREADS


def test_many_cores_are_capped(monkeypatch: pytest.MonkeyPatch, two_cores: None) -> None:
    monkeypatch.setattr(serve.os, "cpu_count", lambda: 64)
    assert serve.sizing("pairing")[0] == serve.MAX_DEFAULT_WORKERS


def test_the_environment_overrides_each_kind(
    monkeypatch: pytest.MonkeyPatch, two_cores: None
) -> None:
    monkeypatch.setenv("TANDEM_API_WORKERS", "1")
    monkeypatch.setenv("TANDEM_WEB_WORKERS", "2")
    monkeypatch.setenv("TANDEM_WEB_THREADS", "3")
    assert serve.sizing("feedback") == (1, serve.API_THREADS)
    assert serve.sizing("web") == (2, 3)


def test_a_users_token_is_reused_and_differs_per_user() -> None:
    signer = TokenSigner(KEY, ttl_seconds=300)
    client = Client({}, signer)
    ada = Principal("p-1", (Grant("mentee", "i-1", None),), "Ada")
    first = client.user_token(ada)
    assert client.user_token(ada) == first
    assert signer.verify(first).user_id == "p-1"
    other = client.user_token(Principal("p-2", (Grant("mentee", "i-1", None),), "Bo"))
    assert other != first
    fewer = client.user_token(Principal("p-1", (), "Ada"))  # roles changed: a new token
    assert fewer != first and signer.verify(fewer).grants == ()


class CountingSigner(TokenSigner):
    minted = 0

    def mint(self, principal: Principal, ttl_seconds: int | None = None) -> str:
        self.minted += 1
        return super().mint(principal, ttl_seconds)


def test_an_expiring_token_is_minted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    signer = CountingSigner(KEY, ttl_seconds=300)
    client = Client({}, signer)
    ada = Principal("p-1", (), "Ada")
    now = [1000.0]
    monkeypatch.setattr("web.client.time.monotonic", lambda: now[0])
    client.user_token(ada)
    now[0] += 149
    client.user_token(ada)
    assert signer.minted == 1
    now[0] += 2  # past half its life
    client.user_token(ada)
    assert signer.minted == 2
