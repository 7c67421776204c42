"""A small OpenID Connect provider for tests, run as a process of its own on loopback.

Built from Authlib's server components, as a real identity provider would be: a discovery
document, a JWKS, the authorization code flow with PKCE (S256, required of every client) and a
required nonce, client authentication with a secret, and ID tokens signed with an RSA key made at
start. People are added while it runs (PUT /users/<sub> with their claims); the authorization
page is a form that signs in as one of them or denies the request.

    python tests/oidc_provider.py --port 9400 --client CLIENT_ID SECRET REDIRECT_URI

`ProviderProcess` starts it from a test and talks to it.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import ClientMixin, InvalidRequestError, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.core.models import AuthorizationCodeMixin
from flask import Flask, Response, jsonify, request
from joserfc.jwk import RSAKey
from markupsafe import escape
from werkzeug.serving import make_server

SCOPES = ("openid", "email", "profile")
# Which claims each scope releases (OpenID Connect Core, 5.4).
SCOPE_CLAIMS = {"email": ("email", "email_verified"), "profile": ("name",)}
CODE_TTL_S = 300
ID_TOKEN_TTL_S = 300


class RequiredPkce(CodeChallenge):
    """PKCE with S256 for every client (Authlib requires it only of public clients)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge") or data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("PKCE with code_challenge_method=S256 is required")
        super().validate_code_challenge(grant, redirect_uri)


@dataclasses.dataclass(frozen=True)
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclasses.dataclass(frozen=True)
class User:
    sub: str
    claims: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    sub: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    expires_at: float

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time


def create_app(issuer: str, clients: list[Client], forge: bool = False) -> Flask:
    """The provider's web app; everything it knows lives in this process's memory.

    `forge`: sign ID tokens with a key that is not the published one (under the published key's
    id), as an attacker's token would be.
    """
    app = Flask(__name__)
    key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)
    signing_key = key
    if forge:
        signing_key = RSAKey.generate_key(2048, parameters={"use": "sig", "kid": key.kid or ""})
    registered = {c.client_id: c for c in clients}
    users: dict[str, User] = {}
    codes: dict[str, Code] = {}
    nonces: set[str] = set()

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def save_authorization_code(self, code: str, request: Any) -> None:
            data = request.payload.data
            nonce = data.get("nonce")
            if nonce:
                nonces.add(nonce)
            codes[code] = Code(
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.payload.scope,
                sub=request.user.sub,
                nonce=nonce,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                auth_time=int(time.time()),
                expires_at=time.time() + CODE_TTL_S,
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = codes.get(code)
            if found and found.client_id == client.client_id and found.expires_at > time.time():
                return found
            return None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> User | None:
            return users.get(authorization_code.sub)

    class IdToken(OpenIDCode):
        def exists_nonce(self, nonce: str, request: Any) -> bool:
            return nonce in nonces  # a nonce is good for one authorization only

        def resolve_client_private_key(self, client: Client) -> RSAKey:
            return signing_key

        def get_client_algorithm(self, client: Client) -> str:
            return "RS256"

        def get_encode_header(self, client: Client) -> dict[str, str]:
            return {"alg": "RS256", "kid": key.kid or ""}

        def get_client_claims(self, client: Client) -> dict[str, Any]:
            return {
                "iss": issuer,
                "aud": [client.client_id],
                "exp": int(time.time()) + ID_TOKEN_TTL_S,
            }

        def generate_user_info(self, user: User, scope: str) -> UserInfo:
            released = {c for s in scope.split() for c in SCOPE_CLAIMS.get(s, ())}
            claims = {k: v for k, v in user.claims.items() if k in released}
            return UserInfo(sub=user.sub, **claims)

    server = AuthorizationServer(
        app, query_client=registered.get, save_token=lambda token, request: None
    )
    server.register_grant(CodeGrant, [RequiredPkce(), IdToken(require_nonce=True)])

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Response:
        return jsonify(
            issuer=issuer,
            authorization_endpoint=f"{issuer}/authorize",
            token_endpoint=f"{issuer}/token",
            jwks_uri=f"{issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            scopes_supported=list(SCOPES),
            token_endpoint_auth_methods_supported=CodeGrant.TOKEN_ENDPOINT_AUTH_METHODS,
            code_challenge_methods_supported=["S256"],
            claims_supported=["sub", "email", "email_verified", "name"],
        )

    @app.get("/jwks")
    def jwks() -> Response:
        return jsonify(keys=[key.as_dict(private=False)])

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        try:
            grant = server.get_consent_grant(end_user=None)
        except OAuth2Error as error:
            # A bad client or redirect URI is shown here, never sent anywhere.
            return _page(f"Invalid request: {error.error} {error.description or ''}"), 400
        if request.method == "GET":
            return _login_form()
        if request.form.get("action") == "deny":
            return server.create_authorization_response(grant=grant, grant_user=None)
        user = users.get(request.form.get("sub", ""))
        if user is None:
            return _login_form("No such user."), 200
        return server.create_authorization_response(grant=grant, grant_user=user)

    @app.post("/token")
    def token() -> Any:
        return server.create_token_response()

    @app.put("/users/<sub>")
    def put_user(sub: str) -> tuple[str, int]:
        users[sub] = User(sub, dict(request.get_json(force=True)))
        return "", 204

    return app


def _page(body: str) -> str:
    return f"<!doctype html><title>Test provider</title><main>{body}</main>"


def _login_form(problem: str = "") -> str:
    message = f'<p role="alert">{escape(problem)}</p>' if problem else ""
    return _page(
        f"<h1>Sign in</h1>{message}"
        '<form method="post"><label>User <input name="sub"></label>'
        '<button name="action" value="allow">Sign in</button>'
        '<button name="action" value="deny">Cancel</button></form>'
    )


class ProviderProcess:
    """The provider as a subprocess on a loopback port, for one or more clients."""

    def __init__(
        self, port: int, clients: list[tuple[str, str, str]], log: Path, forge: bool = False
    ) -> None:
        self.port = port
        self.clients = clients
        self.log = log
        self.forge = forge
        self.process: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        args = [sys.executable, __file__, "--port", str(self.port)]
        for client in self.clients:
            args += ["--client", *client]
        if self.forge:
            args.append("--forge")
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the test provider exited; see {self.log}")
            try:
                if requests.get(self.issuer + "/jwks", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the test provider did not start; see {self.log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def add_user(self, sub: str, **claims: Any) -> None:
        response = requests.put(f"{self.issuer}/users/{sub}", json=claims, timeout=10)
        assert response.status_code == 204, response.text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--client",
        nargs=3,
        action="append",
        default=[],
        metavar=("CLIENT_ID", "SECRET", "REDIRECT_URI"),
    )
    parser.add_argument(
        "--forge", action="store_true", help="sign ID tokens with an unpublished key"
    )
    args = parser.parse_args()
    issuer = f"http://{args.host}:{args.port}"
    clients = [Client(c[0], c[1], (c[2],)) for c in args.client]
    server = make_server(
        args.host, args.port, create_app(issuer, clients, args.forge), threaded=True
    )
    print(f"OpenID provider {issuer}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
