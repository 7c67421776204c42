"""The web app factory: configuration, security headers, landing page and vendored htmx."""

from __future__ import annotations

import re
import stat
from html.parser import HTMLParser
from importlib import resources

import pytest

from web.app import create_app, secret_key

HTMX_BYTES = (resources.files("js_lib_htmx") / "static/htmx/htmx.min.js").read_bytes()


class InlineCodeFinder(HTMLParser):
    """Collects everything a strict CSP would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.script_srcs: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if "style" in names:
            self.problems.append(f"style attribute on <{tag}>")
        self.problems += [f"{n} handler on <{tag}>" for n in names if n.startswith("on")]
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            src = dict(attrs).get("src")
            if not src:
                self.problems.append("<script> without src")
            else:
                self.script_srcs.append(src)
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append(f"inline script body {data.strip()[:40]!r}")


def inline_code(html: str) -> InlineCodeFinder:
    finder = InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder


def test_landing_page_describes_tandem_and_links_to_sign_in(make_client):
    response = make_client().get("/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "mentorship, peer-mentoring and career-coaching programs" in html
    assert 'href="/sign-in"' in html
    assert 'href="/status"' in html
    assert 'name="viewport"' in html
    assert 'href="#main"' in html


def test_every_response_carries_a_strict_csp_and_security_headers(make_client, staff_client):
    anonymous, staff = make_client(), staff_client()
    paths = (
        "/",
        "/status",
        "/home",
        "/sign-in",
        "/password/forgot",
        "/password/reset/not-a-token",
        "/no-such-page",
        "/healthz",
        "/static/tandem.css",
        "/static/vendor/htmx.min.js",
    )
    responses = [(path, client.get(path)) for client in (anonymous, staff) for path in paths]
    responses.append(("/sign-in", anonymous.post("/sign-in", data={})))  # refused: no CSRF token
    for path, response in responses:
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        # Password links carry their token in the address: those pages send no referrer at all.
        expected = "no-referrer" if path.startswith("/password/reset/") else "same-origin"
        assert headers["Referrer-Policy"] == expected, path
        assert headers["X-Frame-Options"] == "DENY"


def test_hsts_only_over_https(make_client):
    client = make_client()

    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_forwarded_proto_is_honoured_only_behind_a_proxy(make_client, monkeypatch):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}

    assert "Strict-Transport-Security" not in make_client().get("/", headers=forwarded).headers

    monkeypatch.setenv("WEB_BEHIND_PROXY", "1")
    assert "Strict-Transport-Security" in make_client().get("/", headers=forwarded).headers


def test_pages_have_no_inline_scripts_or_styles(make_client, staff_client):
    anonymous, staff = make_client(), staff_client()
    pages = {
        "landing": anonymous.get("/").get_data(as_text=True),
        "sign-in": anonymous.get("/sign-in").get_data(as_text=True),
        "forgot": anonymous.get("/password/forgot").get_data(as_text=True),
        "outbox": anonymous.get("/dev/outbox").get_data(as_text=True),
        "not found": anonymous.get("/no-such-page").get_data(as_text=True),
        "status": staff.get("/status").get_data(as_text=True),
        "fragment": staff.get("/status", headers={"HX-Request": "true"}).get_data(as_text=True),
        "home": staff.get("/home").get_data(as_text=True),
    }
    for name, html in pages.items():
        assert html.strip(), name
        assert not re.search(r"\sstyle\s*=", html), name
        assert inline_code(html).problems == [], name


def test_pages_configure_htmx_for_a_strict_csp(make_client):
    html = make_client().get("/").get_data(as_text=True)

    assert '"selfRequestsOnly": true' in html
    assert '"allowEval": false' in html
    assert '"allowScriptTags": false' in html
    assert '"includeIndicatorStyles": false' in html
    assert re.search(r'<script src="/static/vendor/htmx\.min\.js\?v=\w+" defer></script>', html)
    assert 'href="/static/tandem.css"' in html


def test_htmx_is_served_from_the_installed_package(make_client):
    client = make_client()
    response = client.get("/static/vendor/htmx.min.js")

    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.data
    assert response.data == HTMX_BYTES


def test_htmx_url_in_pages_is_versioned_and_cached_for_long(make_client):
    client = make_client()
    finder = inline_code(client.get("/").get_data(as_text=True))
    (src,) = [s for s in finder.script_srcs if "htmx" in s]

    response = client.get(src)
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.immutable

    again = client.get(src, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_stylesheet_is_served(make_client):
    response = make_client().get("/static/tandem.css")

    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert b":focus-visible" in response.data


def test_healthz(make_client):
    response = make_client().get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "alive", "service": "web"}


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = secret_key()
    path = tmp_path / "var" / "web-secret.key"

    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key() == first
    assert create_app().secret_key == first
    assert [p.name for p in path.parent.iterdir()].count("web-secret.key") == 1
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".web-secret.key")]


def test_secret_key_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WEB_SECRET_KEY", "k" * 48)

    assert create_app().secret_key == "k" * 48
    assert not (tmp_path / "var" / "web-secret.key").exists()


def test_production_requires_a_secret_key(monkeypatch):
    monkeypatch.setenv("TANDEM_ENV", "production")
    monkeypatch.setenv("TANDEM_SERVICE_TOKEN_KEY", "t" * 48)

    with pytest.raises(RuntimeError, match="WEB_SECRET_KEY"):
        create_app()

    monkeypatch.setenv("WEB_SECRET_KEY", "s" * 48)
    assert create_app().secret_key == "s" * 48


def test_session_cookie_settings(monkeypatch):
    app = create_app()

    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is True

    monkeypatch.setenv("WEB_INSECURE_COOKIES", "1")
    assert create_app().config["SESSION_COOKIE_SECURE"] is False
