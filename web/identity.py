"""Who is signed in, and the service tokens that let pages call the services as them.

The Flask session (a cookie signed with WEB_SECRET_KEY) holds the person id, name, email, roles
and the account's session epoch. A session stops working when the password changes (the epoch
moves), after SESSION_MAX_AGE whatever happens, and on sign-out. The roles are re-read from
enrollment every GRANTS_MAX_AGE, so a revoked role does not outlive a few minutes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from services.eventkit.auth import ADMIN, COORDINATOR, Grant, Principal

from . import client, directory
from .accounts import Accounts
from .client import ServiceError

log = logging.getLogger(__name__)

ACCOUNTS_KEY = "tandem.accounts"

SESSION_MAX_AGE = dt.timedelta(hours=12)
GRANTS_MAX_AGE_S = 300
GRANTS_RETRY_S = 30

STAFF = (ADMIN, COORDINATOR)

# Reachable without signing in; everything else redirects to the sign-in page.
PUBLIC_ENDPOINTS = {
    "web.index",
    "web.healthz",
    "web.readyz",
    "metrics",  # its own check: the scraper's address or token (services/eventkit/metrics.py)
    "web.htmx_js",
    "web.favicon",
    "static",
    "auth.sign_in",
    "auth.sign_out",
    "auth.forgot",
    "auth.reset",
    "auth.dev_outbox",
    "oidc.start",
    "oidc.callback",
}

ROLE_LABELS = {
    ADMIN: "Consortium admin",
    COORDINATOR: "Coordinator",
    "mentor": "Mentor",
    "mentee": "Mentee",
    "system": "System",
}


@dataclasses.dataclass(frozen=True)
class User:
    person_id: str
    name: str
    email: str
    grants: tuple[Grant, ...]

    @property
    def principal(self) -> Principal:
        return Principal(self.person_id, self.grants, self.name)

    @property
    def roles(self) -> list[str]:
        """The roles held, each once, in the order of ROLE_LABELS."""
        held = {g.role for g in self.grants}
        return [role for role in ROLE_LABELS if role in held]

    def has(self, roles: Iterable[str]) -> bool:
        return self.principal.has(roles)

    @property
    def is_staff(self) -> bool:
        return self.has(STAFF)


def _accounts() -> Accounts:
    return current_app.extensions[ACCOUNTS_KEY]


def start_session(person_id: str, name: str, email: str, grants: tuple[Grant, ...]) -> None:
    """Sign in: a fresh session, so nothing from before (CSRF token included) carries over."""
    account = _accounts().get(person_id)
    assert account is not None
    _accounts().record_sign_in(person_id)
    session.clear()
    session.permanent = True
    session.update(
        person_id=person_id,
        name=name,
        email=email,
        grants=[list(_grant_tuple(g)) for g in grants],
        epoch=account.session_epoch,
        signed_in_at=time.time(),
        grants_at=time.time(),
    )
    g.pop("tandem_user", None)


def end_session() -> None:
    session.clear()
    g.pop("tandem_user", None)


def current_user() -> User | None:
    """The signed-in user of this request, or None."""
    if "tandem_user" not in g:
        g.tandem_user = _load_user()
    return g.tandem_user


def _load_user() -> User | None:
    person_id = session.get("person_id")
    if not isinstance(person_id, str):
        return None
    signed_in_at = session.get("signed_in_at")
    if not isinstance(signed_in_at, (int, float)) or (
        time.time() - signed_in_at > SESSION_MAX_AGE.total_seconds()
    ):
        session.clear()
        return None
    account = _accounts().get(person_id)
    if account is None or account.session_epoch != session.get("epoch"):
        # The password changed (or the account went) since this session signed in.
        session.clear()
        return None
    if time.time() - float(session.get("grants_at", 0)) > GRANTS_MAX_AGE_S:
        _refresh_grants(person_id)
        if "person_id" not in session:
            return None
    try:
        grants = tuple(Grant(*item) for item in session.get("grants", []))
    except TypeError:
        session.clear()
        return None
    return User(person_id, str(session.get("name", "")), account.email, grants)


def _refresh_grants(person_id: str) -> None:
    try:
        grants = directory.grants_of(client.current(), person_id)
    except ServiceError as exc:
        # Keep the roles read at sign-in for now, and ask again shortly.
        log.info("could not refresh roles of a signed-in user: %s", exc)
        session["grants_at"] = time.time() - GRANTS_MAX_AGE_S + GRANTS_RETRY_S
        return
    if grants is None:  # enrollment no longer knows the person
        session.clear()
        return
    session["grants"] = [list(_grant_tuple(g)) for g in grants]
    session["grants_at"] = time.time()


def _grant_tuple(grant: Grant) -> tuple[str, str | None, str | None]:
    return (grant.role, grant.institution_id, grant.program_id)


def service_token(user: User | None = None) -> str:
    """A short-lived service token that speaks for the signed-in user, with their roles."""
    user = user or current_user()
    if user is None:
        raise RuntimeError("service_token() needs a signed-in user")
    return client.current().user_token(user.principal)


def safe_next(target: str | None, default: str = "/home") -> str:
    """`target` if it is a path on this site; `default` for anything that could leave it."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def require_sign_in() -> ResponseReturnValue | None:
    """before_request: every endpoint outside PUBLIC_ENDPOINTS needs a signed-in user."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if current_user() is not None:
        return None
    target = request.full_path if request.query_string else request.path
    if request.method != "GET":
        target = "/home"
    location = url_for("auth.sign_in", next=safe_next(target))
    if request.headers.get("HX-Request") == "true":
        # htmx would swap a redirect's page into the target; send the whole window instead.
        return "", 401, {"HX-Redirect": location}
    return redirect(location)


def roles_required(*roles: str) -> Callable:
    """403 page unless the signed-in user holds one of `roles` (anywhere)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None or not user.has(roles):
                return forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorate


def forbidden() -> ResponseReturnValue:
    return (
        render_template(
            "error.html",
            title="Not available to you",
            message="This page is for other roles. If you think you should see it, ask your "
            "program's coordinator.",
        ),
        403,
    )
