"""The web front end: the app factory, security headers and error pages."""

from __future__ import annotations

import logging

from flask import (
    Flask,
    Response,
    g,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from services.eventkit import config, http_observe
from services.eventkit.auth import Principal, TokenSigner
from services.eventkit.db import make_engine
from services.eventkit.inputs import InputRefused, body_limit, install_input_checks

from . import auth, client, db, favicon, identity, oidc
from .accounts import Accounts
from .client import Client, ServiceError
from .pages import registry, site
from .pages.coord.roster import MAX_UPLOAD_BYTES
from .rendering import htmx

# No 'unsafe-inline' or 'unsafe-eval': templates carry no inline script or style, and the
# htmx-config meta tag keeps htmx from evaluating code or injecting its indicator styles.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
HSTS = "max-age=31536000; includeSubDomains"


log = logging.getLogger(__name__)

csrf = CSRFProtect()


def create_app() -> Flask:
    """Build the web app from the environment (see services/eventkit/config.py)."""
    app = Flask(__name__)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.config.update(
        SECRET_KEY=secret_key(),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Plain-http localhost runs opt out; anything reachable over a network uses https.
        SESSION_COOKIE_SECURE=not _flag("WEB_INSECURE_COOKIES"),
        PERMANENT_SESSION_LIFETIME=identity.SESSION_MAX_AGE,
        # The CSRF token lives as long as the session (which a sign-in renews), not one hour,
        # so a form left open for a while still posts.
        WTF_CSRF_TIME_LIMIT=None,
    )
    if _flag("WEB_BEHIND_PROXY"):
        # Trust exactly one proxy hop, so a client cannot claim https or another address.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    http_observe.install(app, "web", _signed_in)  # first: every request timed, counted, logged
    install_input_checks(app)  # odd or oversized input gets a 4xx page, never a 500
    htmx.init_app(app)
    csrf.init_app(app)
    signer = TokenSigner(config.token_key(), config.token_ttl_seconds())
    urls = {name: config.service_url(name) for name in config.SERVICES}
    engine = make_engine(db.database_url())
    app.extensions[db.ENGINE_KEY] = engine
    app.extensions[identity.ACCOUNTS_KEY] = Accounts(engine)
    app.extensions[client.CLIENT_KEY] = Client(urls, signer)
    app.extensions[site.HTMX_JS_KEY] = site.load_htmx()
    app.extensions[site.FAVICON_KEY] = favicon.ico()
    app.register_blueprint(site.bp)
    auth.init_app(app)
    oidc.init_app(app)
    registry.register(app)
    body_limit(lambda: MAX_UPLOAD_BYTES + 64 * 1024)(app.view_functions["coord.roster"])
    app.before_request(identity.require_sign_in)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_refused)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServiceError, _service_down)
    return app


def _signed_in() -> Principal | None:
    user = g.get("tandem_user")  # only if the request loaded it: logging must not sign anyone in
    return user.principal if user is not None else None


def secret_key() -> str:
    return config.secret("WEB_SECRET_KEY", "web-secret.key")


def _flag(name: str) -> bool:
    return config.env(name, "0").lower() in {"1", "true", "yes", "on"}


def _security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def _csrf_refused(error: CSRFError) -> tuple[str, int]:
    log.info("refused a %s to %s: %s", request.method, request.path, error.description)
    return (
        render_template(
            "error.html",
            title="This form could not be sent",
            message="Tandem could not confirm that this form came from its own page, so nothing "
            "was changed. Go back, reload the page and try again.",
        ),
        400,
    )


def _service_down(error: ServiceError) -> tuple[str, int]:
    log.warning("a page could not be served: %s", error)
    return (
        render_template(
            "error.html",
            title="Tandem is busy",
            message=f"The {error.service} part of Tandem is not answering right now, so this "
            "page cannot be shown and nothing was changed. Please try again in a minute.",
        ),
        503,
    )


def _http_error(error: HTTPException) -> Response | tuple[str, int]:
    if error.code is None or error.code < 400 or request.path.startswith("/static/"):
        return error.get_response()
    return (
        render_template(
            "error.html",
            title=error.name,
            message={
                404: "There is no page at this address.",
                403: "This page is for other roles or another institution. If you think you "
                "should see it, ask your program's coordinator.",
                405: "This page does not accept that kind of request.",
                413: "That is more than Tandem accepts at once; nothing was changed.",
            }.get(error.code, "Something went wrong with this request.")
            if not isinstance(error, InputRefused)
            else f"{error.description} Nothing was changed.",
        ),
        error.code,
    )
