"""The web in front of the live suite with single sign-on configured: two real OpenID providers
on loopback (tests/oidc_provider.py), one for each seeded institution, and one that forges its
ID tokens. The web runs in this process (werkzeug on a free port), so a browser, or a
browser-like client, goes web -> provider -> web as a person would."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from live import TOKEN_KEY, LiveSuite, Program, seed_program
from oidc_provider import ProviderProcess
from werkzeug.serving import make_server

from services.eventkit import config
from services.eventkit.broker import free_ports
from web.app import create_app


@dataclasses.dataclass
class Sso:
    live: LiveSuite
    url: str  # the web
    north: ProviderProcess  # institution A's provider
    south: ProviderProcess  # institution B's provider
    forger: ProviderProcess  # signs its ID tokens with a key it does not publish
    a: Program
    b: Program

    def person(self, program: Program, name: str) -> dict:
        """A new person of the program's institution, without a Tandem password."""
        tag = secrets.token_hex(3)
        return self.live.ok(
            "enrollment",
            "POST",
            "/api/people",
            {
                "institution_id": program.institution["id"],
                "name": name,
                "email": f"{name.lower().replace(' ', '.')}.{tag}@riverside.example",
                "training_level": "PGY2",
                "specialty": "General Surgery",
            },
        )


@contextlib.contextmanager
def running_sso(live_suite: LiveSuite, logs: Path) -> Iterator[Sso]:
    """Two seeded institutions, a provider for each and a forger, and the web configured for
    the three, serving on a free port until the block ends."""
    a = seed_program(live_suite, mentors=1, mentees=1)
    b = seed_program(live_suite, mentors=1, mentees=1, wait_for_pairing=False)
    port, north_port, south_port, forger_port = free_ports(4)
    url = f"http://127.0.0.1:{port}"
    north = ProviderProcess(
        north_port,
        [("tandem-north", "north-secret", f"{url}/sign-in/sso/north/callback")],
        logs / "north.log",
    )
    south = ProviderProcess(
        south_port,
        [("tandem-south", "south-secret", f"{url}/sign-in/sso/south/callback")],
        logs / "south.log",
    )
    forger = ProviderProcess(
        forger_port,
        [("tandem-forger", "forger-secret", f"{url}/sign-in/sso/forger/callback")],
        logs / "forger.log",
        forge=True,
    )
    env = {
        "WEB_OIDC_PROVIDERS": "north, south,forger",
        "WEB_OIDC_NORTH_ISSUER": north.issuer,
        "WEB_OIDC_NORTH_CLIENT_ID": "tandem-north",
        "WEB_OIDC_NORTH_CLIENT_SECRET": "north-secret",
        "WEB_OIDC_NORTH_INSTITUTION": a.institution["id"],
        "WEB_OIDC_NORTH_LABEL": "Sign in with Northfield SSO",
        "WEB_OIDC_SOUTH_ISSUER": south.issuer,
        "WEB_OIDC_SOUTH_CLIENT_ID": "tandem-south",
        "WEB_OIDC_SOUTH_CLIENT_SECRET": "south-secret",
        # By short code, in other case: the web compares it with the institution's.
        "WEB_OIDC_SOUTH_INSTITUTION": b.institution["short_code"].lower(),
        "WEB_OIDC_FORGER_ISSUER": forger.issuer,
        "WEB_OIDC_FORGER_CLIENT_ID": "tandem-forger",
        "WEB_OIDC_FORGER_CLIENT_SECRET": "forger-secret",
        "WEB_OIDC_FORGER_INSTITUTION": a.institution["id"],
        "TANDEM_SERVICE_TOKEN_KEY": TOKEN_KEY,
        "WEB_DATABASE_URL": live_suite.web_database_url,
        "WEB_PUBLIC_URL": url,
        "WEB_SECRET_KEY": secrets.token_urlsafe(32),
        "WEB_INSECURE_COOKIES": "1",
        **{f"{s.upper()}_URL": live_suite.service_url(s) for s in config.SERVICES},
    }
    providers = (north, south, forger)
    try:
        for provider in providers:
            provider.start()
        # The web reads some settings per request (WEB_PUBLIC_URL): keep them while it serves.
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            server = make_server("127.0.0.1", port, create_app(), threaded=True)
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            try:
                yield Sso(live_suite, url, north, south, forger, a, b)
            finally:
                server.shutdown()
                thread.join(10)
    finally:
        for provider in providers:
            provider.stop()
