"""Single sign-on settings from the environment (web/oidc.py load_providers)."""

from __future__ import annotations

import pytest

from web.oidc import Provider, load_providers

NORTH = {
    "WEB_OIDC_NORTH_FIELD_ISSUER": "https://login.northfield.example/",
    "WEB_OIDC_NORTH_FIELD_CLIENT_ID": "tandem",
    "WEB_OIDC_NORTH_FIELD_CLIENT_SECRET": "s3cret",
    "WEB_OIDC_NORTH_FIELD_INSTITUTION": "NFH",
}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):
    def set_env(values: dict[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    monkeypatch.delenv("WEB_OIDC_PROVIDERS", raising=False)
    monkeypatch.delenv("AUTHLIB_INSECURE_TRANSPORT", raising=False)
    return set_env


def test_no_providers_by_default(env) -> None:
    assert load_providers() == {}
    env({"WEB_OIDC_PROVIDERS": " , "})
    assert load_providers() == {}


def test_a_provider_from_its_settings(env) -> None:
    env({"WEB_OIDC_PROVIDERS": "North-Field", **NORTH})

    assert load_providers() == {
        "north-field": Provider(
            key="north-field",
            issuer="https://login.northfield.example",
            client_id="tandem",
            client_secret="s3cret",
            institution="NFH",
            label="Sign in with North Field",
        )
    }
    env({"WEB_OIDC_NORTH_FIELD_LABEL": "Sign in with Northfield SSO"})
    (provider,) = load_providers().values()
    assert provider.label == "Sign in with Northfield SSO"
    assert provider.name == "Northfield SSO"


@pytest.mark.parametrize("missing", sorted(NORTH))
def test_a_half_configured_provider_stops_the_start(env, monkeypatch, missing: str) -> None:
    env({"WEB_OIDC_PROVIDERS": "north-field", **NORTH})
    monkeypatch.delenv(missing)

    with pytest.raises(RuntimeError, match=missing):
        load_providers()


@pytest.mark.parametrize(
    "issuer", ["http://login.northfield.example", "ftp://login.northfield.example"]
)
def test_the_issuer_must_use_https_off_loopback(env, issuer: str) -> None:
    env({"WEB_OIDC_PROVIDERS": "north-field", **NORTH, "WEB_OIDC_NORTH_FIELD_ISSUER": issuer})

    with pytest.raises(RuntimeError, match="https"):
        load_providers()
    # Loopback (development, tests) may use plain http.
    env({"WEB_OIDC_NORTH_FIELD_ISSUER": "http://127.0.0.1:9400"})
    assert load_providers()["north-field"].issuer == "http://127.0.0.1:9400"


@pytest.mark.parametrize("key", ["north_field", "north/field", "-north", "n" * 41])
def test_keys_are_url_safe(env, key: str) -> None:
    env({"WEB_OIDC_PROVIDERS": key})

    with pytest.raises(RuntimeError, match="not a valid key"):
        load_providers()
