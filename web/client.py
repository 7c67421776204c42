"""The web's one client for the services: every request the web makes to a service (or to a
service's worker) goes through `Client.send`, and every failure to get a usable answer is a
ServiceError.

Pages call as the signed-in user (web/calls.py); sign-in, the status page, password links and
the `tandem web` command call as the system, with a token that lives a minute.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Mapping
from typing import Any

import requests
from flask import current_app

from services.eventkit import json_codec, logs, tracing
from services.eventkit.auth import Principal, TokenSigner, system_principal

log = logging.getLogger(__name__)

CLIENT_KEY = "tandem.services"
# Look-ups and probes answer fast or not at all; the status page waits for no service longer.
PROBE_TIMEOUT_S = 2.0
SYSTEM_TOKEN_TTL_S = 60
TOKEN_CACHE_SIZE = 10_000
# Answers the services tag with an ETag are kept for asking again conditionally, up to this many
# bytes of JSON (the least recently used go first).
ANSWER_CACHE_BYTES = 32 * 1024 * 1024


class ServiceError(Exception):
    """A service did not answer, failed on its side, or answered what the web cannot use."""

    def __init__(self, service: str, detail: str) -> None:
        super().__init__(f"{service}: {detail}")
        self.service = service
        self.detail = detail


@dataclasses.dataclass(frozen=True)
class Reply:
    """A service's answer, whatever its status."""

    status: int
    body: Any
    content: bytes = b""
    content_type: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        if isinstance(self.body, dict) and isinstance(self.body.get("message"), str):
            return self.body["message"]
        return f"The request was refused (HTTP {self.status})."

    def field_errors(self) -> dict[str, str]:
        """The first message per field, with nested fields joined by dots ("rows.3.email")."""
        if not isinstance(self.body, dict) or not isinstance(self.body.get("errors"), dict):
            return {}
        found: dict[str, str] = {}
        for location in self.body["errors"].values():  # "json", "query", "form", "files"
            _flatten(location, "", found)
        return found

    def form_errors(self) -> dict[str, str]:
        """The first message per top-level form field ("review_months.0" -> "review_months")."""
        errors: dict[str, str] = {}
        for key, message in self.field_errors().items():
            errors.setdefault(key.split(".")[0], message)
        return errors

    def expect(self, service: str, kind: type) -> Any:
        """The body of a 200 answer of this kind (dict or list); else a ServiceError."""
        if self.status != 200 or not isinstance(self.body, kind):
            raise ServiceError(service, f"HTTP {self.status}")
        return self.body


class AnswerCache:
    """The last answer to each GET a service tagged with an ETag, per caller: asked again with
    If-None-Match, a 304 stands for it, so an unchanged cycle's thousands of candidates are
    neither read and serialized by the service nor parsed again here. Keyed by who asked as well
    as what, since a service may answer each caller differently."""

    def __init__(self, max_bytes: int = ANSWER_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._answers: OrderedDict[Hashable, tuple[str, Reply]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[str, Reply] | None:
        with self._lock:
            found = self._answers.get(key)
            if found is not None:
                self._answers.move_to_end(key)
            return found

    def put(self, key: Hashable, etag: str, reply: Reply) -> None:
        size = len(reply.content)
        with self._lock:
            self._forget(key)
            if size > self.max_bytes:
                return
            self._answers[key] = (etag, reply)
            self._bytes += size
            while self._bytes > self.max_bytes:
                self._forget(next(iter(self._answers)))

    def _forget(self, key: Hashable) -> None:
        old = self._answers.pop(key, None)
        if old is not None:
            self._bytes -= len(old[1].content)


def _flatten(node: Any, prefix: str, into: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(value, f"{prefix}.{key}" if prefix else str(key), into)
    elif isinstance(node, list) and node and all(isinstance(m, str) for m in node):
        into.setdefault(prefix or "_schema", node[0])
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _flatten(value, f"{prefix}.{index}" if prefix else str(index), into)
    elif isinstance(node, str):
        into.setdefault(prefix or "_schema", node)


class Client:
    """The services' base URLs and the signer of the tokens the web presents to them."""

    def __init__(
        self,
        urls: Mapping[str, str],
        signer: TokenSigner,
        timeout_s: float = PROBE_TIMEOUT_S,
    ) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.signer = signer
        self.timeout_s = timeout_s  # for calls that name no timeout of their own
        # A session per thread keeps connections to the services open between requests (a page
        # makes several calls); requests' sessions are not safe to share between threads.
        self._local = threading.local()
        self._tokens: dict[tuple, tuple[str, float]] = {}
        self.answers = AnswerCache()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def user_token(self, principal: Principal) -> str:
        """A token for this principal, minted once and reused until it is near its expiry (a
        page makes several calls; a signed-in person makes many pages)."""
        key = (principal.user_id, principal.name, principal.grants)
        now = time.monotonic()
        cached = self._tokens.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        if len(self._tokens) >= TOKEN_CACHE_SIZE:
            self._tokens.clear()  # rare: more people signed in at once than it holds
        token = self.signer.mint(principal)
        # Reused for at most half its life, so a service never sees one about to expire.
        self._tokens[key] = (token, now + self.signer.ttl_seconds / 2)
        return token

    def system_token(self) -> str:
        return self.signer.mint(system_principal(), ttl_seconds=SYSTEM_TOKEN_TTL_S)

    def request(self, service: str, method: str, path: str, **options: Any) -> Reply:
        """One request to a service's API; `options` as for `send`."""
        return self.send(service, method, self.urls[service] + path, **options)

    def send(
        self,
        service: str,
        method: str,
        url: str,
        *,
        token: str | None = None,
        timeout_s: float | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        content_type: str | None = None,
        caller: Hashable | None = None,
    ) -> Reply:
        """One request; every answer is a Reply, and no answer at all is a ServiceError. A GET
        made for `caller` (who the token speaks for) is asked conditionally when its last answer
        was tagged, and a 304 comes back as that answer."""
        headers = {"Accept": "application/json", **logs.forwarded(), **tracing.outgoing_headers()}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if content_type:
            headers["Content-Type"] = content_type
        key = held = None
        if caller is not None and method.upper() == "GET":
            asked = ((k, tuple(v) if isinstance(v, list) else v) for k, v in (params or {}).items())
            key = (caller, url, tuple(sorted(asked)))
            held = self.answers.get(key)
            if held is not None:
                headers["If-None-Match"] = held[0]
        try:
            response = self._session().request(
                method,
                url,
                json=json,
                params=params,
                data=data,
                headers=headers,
                timeout=self.timeout_s if timeout_s is None else timeout_s,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            log.warning("%s %s (%s) failed: %s", method, url, service, exc)
            raise ServiceError(service, "no answer") from exc
        if held is not None and response.status_code == 304:
            return held[1]
        try:
            body = json_codec.loads(response.content)
        except ValueError:
            body = None
        reply = Reply(
            response.status_code,
            body,
            content=response.content,
            content_type=response.headers.get("Content-Type", ""),
        )
        etag = response.headers.get("ETag")
        if key is not None and etag and response.status_code == 200:
            self.answers.put(key, etag, reply)
        return reply


def current() -> Client:
    """The client of the running app."""
    return current_app.extensions[CLIENT_KEY]
