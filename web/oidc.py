"""Single sign-on per institution through OpenID Connect (Authlib's Flask client).

Each identity provider is configured from the environment (never from the repository):

    WEB_OIDC_PROVIDERS=northfield,southgate          keys, one per provider (a-z, 0-9, -)
    WEB_OIDC_<KEY>_ISSUER=https://login.northfield.example
    WEB_OIDC_<KEY>_CLIENT_ID=...
    WEB_OIDC_<KEY>_CLIENT_SECRET=...
    WEB_OIDC_<KEY>_INSTITUTION=<institution id or short code>
    WEB_OIDC_<KEY>_LABEL=Sign in with Northfield SSO    (optional)

<KEY> is the key in capitals with "-" as "_". The provider is found through its discovery
document; sign-in is the authorization code flow with PKCE (S256). Authlib keeps the state,
nonce and code verifier in the session, checks state and nonce on return, and verifies the ID
token's signature against the provider's JWKS. Tandem then lets in only the person enrollment
knows by the provider's verified email, and only if that person belongs to the provider's
institution; the session is the same as after a password sign-in. The first sign-in binds the
account to the provider's issuer and subject (sub): later sign-ins are matched by the subject, so
a changed email at the provider still finds the person, and another subject arriving with the
person's email is refused.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import requests
from authlib.common.security import is_secure_transport
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError

from services.eventkit import config

from . import access_log, client, directory, identity, rendering
from .accounts import AccountError, Accounts, normalise_email
from .client import ServiceError
from .directory import Person
from .forms import SignInForm
from .outbox import public_url

log = logging.getLogger(__name__)

PROVIDERS_KEY = "tandem.oidc_providers"
OAUTH_KEY = "tandem.oidc"
NEXT_KEY = "oidc_next"  # where to go after signing in, kept in the session meanwhile
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
SCOPE = "openid email profile"
TIMEOUT_S = 10

CANCELLED = (
    "Signing in through {label} was cancelled, so you are not signed in. Try again, or sign in "
    "with your Tandem password."
)
PROVIDER_ERROR = (
    "{label} could not sign you in, so you are not signed in. Try again, or sign in with your "
    "Tandem password."
)
STALE = (
    "This sign-in was not started from this browser, or it took too long. Nothing was signed "
    "in: start again from this page."
)
NOT_VERIFIED = (
    "{label} did not confirm your email address, so Tandem cannot tell who you are. Ask your "
    "institution's IT help desk to confirm it, or sign in with your Tandem password."
)
UNKNOWN = (
    "{label} signed you in as {email}, but Tandem has no one with that email address. Ask your "
    "program's coordinator to check the address Tandem has for you."
)
OTHER_INSTITUTION = (
    "Your Tandem account belongs to another institution, so you cannot sign in through {label}. "
    "Use your own institution's sign-in, or your Tandem password."
)
OTHER_SUBJECT = (
    "Your Tandem account is linked to another {label} account than the one you just used, so "
    "you are not signed in. Sign in with the account you used before, or ask your program's "
    "coordinator for help."
)
GONE = (
    "Your {label} account is linked to a Tandem account that no longer exists. Ask your "
    "program's coordinator for help."
)
UNVERIFIABLE = (
    "The answer from {label} could not be verified, so you are not signed in. Start again from "
    "this page."
)
UNAVAILABLE = (
    "Signing in through {label} is not possible right now. Please try again in a minute, or "
    "sign in with your Tandem password."
)

bp = Blueprint("oidc", __name__)


@dataclasses.dataclass(frozen=True)
class Provider:
    key: str
    issuer: str
    client_id: str
    client_secret: str
    institution: str  # an institution id or short code
    label: str

    @property
    def name(self) -> str:
        """The provider as messages name it: "Northfield SSO" for "Sign in with Northfield SSO"."""
        return self.label.removeprefix("Sign in with ").removeprefix("Sign in through ")


def load_providers() -> dict[str, Provider]:
    """The providers configured in the environment; a half-configured one stops the start."""
    keys = [k.strip().lower() for k in config.env("WEB_OIDC_PROVIDERS", "").split(",")]
    found: dict[str, Provider] = {}
    for key in filter(None, keys):
        if not KEY_RE.match(key):
            raise RuntimeError(f"WEB_OIDC_PROVIDERS: {key!r} is not a valid key (a-z, 0-9, -)")
        prefix = f"WEB_OIDC_{key.upper().replace('-', '_')}_"
        values = {
            name: config.env(prefix + name, "")
            for name in ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "INSTITUTION")
        }
        missing = [prefix + name for name, value in values.items() if not value]
        if missing:
            raise RuntimeError(f"single sign-on {key!r} needs {', '.join(missing)}")
        issuer = values["ISSUER"].rstrip("/")
        if not is_secure_transport(issuer):
            # Plain http only on loopback (development and tests).
            raise RuntimeError(f"{prefix}ISSUER must be an https:// URL")
        found[key] = Provider(
            key=key,
            issuer=issuer,
            client_id=values["CLIENT_ID"],
            client_secret=values["CLIENT_SECRET"],
            institution=values["INSTITUTION"],
            label=config.env(prefix + "LABEL", f"Sign in with {key.replace('-', ' ').title()}"),
        )
    return found


def init_app(app: Flask) -> None:
    providers = load_providers()
    oauth = OAuth(app)
    for provider in providers.values():
        oauth.register(
            name=provider.key,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=f"{provider.issuer}/.well-known/openid-configuration",
            client_kwargs={
                "scope": SCOPE,
                "code_challenge_method": "S256",
                "default_timeout": TIMEOUT_S,
            },
        )
    app.extensions[PROVIDERS_KEY] = providers
    app.extensions[OAUTH_KEY] = oauth
    app.register_blueprint(bp)


@bp.app_context_processor
def _sign_in_providers() -> dict[str, Any]:
    return {"sso_providers": list(current_app.extensions[PROVIDERS_KEY].values())}


def _provider(key: str) -> Provider:
    provider = current_app.extensions[PROVIDERS_KEY].get(key)
    if provider is None:
        abort(404)
    return provider


def callback_url(key: str) -> str:
    """The redirect URI registered at the provider: on the public address, never the Host."""
    return public_url() + url_for("oidc.callback", key=key)


@bp.get("/sign-in/sso/<key>")
def start(key: str) -> ResponseReturnValue:
    provider = _provider(key)
    next_url = identity.safe_next(request.args.get("next"))
    if identity.current_user() is not None:
        return redirect(next_url)
    oidc = current_app.extensions[OAUTH_KEY].create_client(key)
    try:
        metadata = oidc.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        log.warning("single sign-on %s: discovery failed: %s", key, exc)
        return _sign_in_page(503, UNAVAILABLE, provider, next_url)
    if str(metadata.get("issuer", "")).rstrip("/") != provider.issuer:
        # OpenID Connect Discovery: the document must name the issuer it was fetched for.
        log.error("single sign-on %s: discovery names another issuer", key)
        return _sign_in_page(503, UNAVAILABLE, provider, next_url)
    # Only the latest attempt stays valid: each one keeps its state in the session cookie,
    # which must not outgrow what browsers store.
    for stale in [name for name in session if name.startswith("_state_")]:
        session.pop(stale)
    session[NEXT_KEY] = next_url
    response = oidc.authorize_redirect(callback_url(key))
    return rendering.private(response)


@bp.get("/sign-in/sso/<key>/callback")
def callback(key: str) -> ResponseReturnValue:
    provider = _provider(key)
    next_url = identity.safe_next(session.pop(NEXT_KEY, None))
    error = request.args.get("error")
    if error:
        log.info("single sign-on %s: the provider answered %s", key, error[:64])
        message = CANCELLED if error == "access_denied" else PROVIDER_ERROR
        return _refuse(400, message, provider, next_url)
    oidc = current_app.extensions[OAUTH_KEY].create_client(key)
    try:
        token = oidc.authorize_access_token()
    except MismatchingStateError:
        log.info("single sign-on %s: unknown or expired state", key)
        return _refuse(400, STALE, provider, next_url)
    except (OAuthError, JoseError) as exc:
        log.warning("single sign-on %s: refused the provider's answer: %s", key, exc)
        return _refuse(400, UNVERIFIABLE, provider, next_url)
    except (requests.RequestException, ValueError) as exc:
        log.warning("single sign-on %s: token request failed: %s", key, exc)
        return _refuse(503, UNAVAILABLE, provider, next_url)
    claims = token.get("userinfo")
    if not claims:  # no ID token came back: nothing says who this is
        log.warning("single sign-on %s: no ID token", key)
        return _refuse(400, UNVERIFIABLE, provider, next_url)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:  # nothing says which account this is
        log.warning("single sign-on %s: no subject", key)
        return _refuse(400, UNVERIFIABLE, provider, next_url)
    accounts: Accounts = current_app.extensions[identity.ACCOUNTS_KEY]
    try:
        person = _person_signing_in(provider, subject, claims, accounts)
        if not _belongs(person, provider):
            log.warning("single sign-on %s: a person of another institution was refused", key)
            raise Refused(403, OTHER_INSTITUTION)
        grants = directory.grants_of(client.current(), person.id)
        if grants is None:
            raise Refused(403, UNKNOWN, email=person.email)
        try:
            account = accounts.ensure(person.id, person.email)
        except AccountError as exc:
            log.warning("single sign-on %s: no account for the person: %s", key, exc)
            raise Refused(403, UNKNOWN, email=person.email) from exc
        if not accounts.bind_sso(person.id, provider.issuer, subject):
            log.warning("single sign-on %s: the account is bound to another subject", key)
            raise Refused(403, OTHER_SUBJECT)
    except Refused as refusal:
        return _refuse(refusal.status, refusal.message, provider, next_url, **refusal.details)
    except ServiceError as exc:
        log.warning("single sign-on %s could not reach enrollment: %s", key, exc)
        return _refuse(503, UNAVAILABLE, provider, next_url)
    identity.start_session(person.id, person.name, account.email, grants)
    access_log.record(
        client.current(), access_log.SIGN_IN, person_id=person.id, method=f"sso:{key}"
    )
    log.info("single sign-on %s: signed in person %s", key, person.id)
    return redirect(next_url)


class Refused(Exception):
    """Why this sign-in is refused: the status and the message for the sign-in page."""

    def __init__(self, status: int, message: str, **details: str) -> None:
        super().__init__(message)
        self.status, self.message, self.details = status, message, details


def _person_signing_in(
    provider: Provider, subject: str, claims: dict[str, Any], accounts: Accounts
) -> Person:
    """Who the provider's subject is: the person whose account is bound to it, else (the first
    time) the person with the provider's verified email, whose account is not bound to another
    subject of any provider."""
    bound = accounts.by_sso(provider.issuer, subject)
    if bound is not None:
        # Matched by sub: the email the provider holds may have changed since.
        person = directory.person_by_id(client.current(), bound.person_id)
        if person is None:
            raise Refused(403, GONE)
        return person
    email = claims.get("email")
    verified = claims.get("email_verified")
    if not isinstance(email, str) or not email or (verified is not True and verified != "true"):
        log.info("single sign-on %s: no verified email", provider.key)
        raise Refused(403, NOT_VERIFIED)
    person = directory.person_by_email(client.current(), email)
    if person is None or normalise_email(person.email) != normalise_email(email):
        log.info("single sign-on %s: no person has the email", provider.key)
        raise Refused(403, UNKNOWN, email=email)
    account = accounts.get(person.id)
    if account is not None and account.sso_subject is not None:
        # The address now belongs to another account at the provider (or another provider).
        log.warning(
            "single sign-on %s: the person's account is bound to another subject", provider.key
        )
        raise Refused(403, OTHER_SUBJECT)
    return person


def _belongs(person: Person, provider: Provider) -> bool:
    """Whether the person's institution is the provider's (configured by id or short code)."""
    if person.institution_id == provider.institution:
        return True
    for institution in directory.institutions(client.current()):
        if institution.get("id") == person.institution_id:
            code = str(institution.get("short_code") or "")
            return code.upper() == provider.institution.upper()
    return False


def _refuse(
    status: int, message: str, provider: Provider, next_url: str, **details: str
) -> Response:
    """Back to the sign-in page with the reason, and no session."""
    identity.end_session()
    return _sign_in_page(status, message, provider, next_url, **details)


def _sign_in_page(
    status: int, message: str, provider: Provider, next_url: str, **details: str
) -> Response:
    error = message.format(label=provider.name, **details)
    return rendering.page("sign_in.html", status, form=SignInForm(), next_url=next_url, error=error)
