"""Request hardening for every service API (and the web): whatever a client sends is answered
with a 4xx, never a 500.

- Bodies are capped (413) from Content-Length and while streaming, before anything parses them:
  `TANDEM_MAX_BODY_BYTES` (default 1 MiB); a route that takes files declares more with
  `body_limit`.
- JSON bodies are checked when first read, before the route's schema parses them: nesting depth
  (`TANDEM_MAX_JSON_DEPTH`, default 64), numbers that fit a 64-bit integer and are finite, and
  text without NUL or lone surrogates (neither UTF-8 nor PostgreSQL can store them). Refusals
  name the field: `{"code": 422, "message": ..., "errors": {"json": {field: [message]}}}`.
- Query parameters and form fields are refused the same way (`errors.query`, `errors.form`); a
  path holding such characters names nothing that exists (404); a header holding NUL is a 400.
- `document_errors` makes the OpenAPI of every operation list the error responses it can give.
"""

from __future__ import annotations

import http
import json
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from apispec import BasePlugin
from flask import Flask, Request, current_app, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .config import env_int

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_JSON_DEPTH = 64
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
# Documented on every operation: what any route may answer besides its own responses.
ERROR_STATUSES = (400, 401, 403, 404, 409, 413, 414, 422, 431)

# NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be encoded as UTF-8.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")

TEXT_REFUSED = "Text may not contain NUL characters or unpaired surrogates."
FIELDS_REFUSED = (
    "The request is not valid: text may not contain NUL characters or unpaired surrogates."
)
NUMBER_REFUSED = f"Numbers must be finite and integers within ±{INT64_MAX}."
FORM_MIMETYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}

F = TypeVar("F", bound=Callable[..., Any])


class InputRefused(HTTPException):
    """A 4xx with the body shape of the services' other refusals (flask-smorest reads `data`);
    the web renders it by its code."""

    def __init__(self, code: int, message: str, errors: dict | None = None) -> None:
        super().__init__(description=message)
        self.code = code
        self.data: dict[str, Any] = {"message": message}
        if errors:
            self.data["errors"] = errors


def max_body_bytes() -> int:
    return env_int("TANDEM_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)


def max_json_depth() -> int:
    return env_int("TANDEM_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH)


def body_limit(limit: Callable[[], int]) -> Callable[[F], F]:
    """Let one route take bodies up to `limit()` bytes (read per request, so an environment
    variable can set it). It marks the view function; decorators built with functools.wraps
    (the route guards) carry the mark up to the registered view."""

    def mark(view: F) -> F:
        view.max_body_bytes = limit  # type: ignore[attr-defined]
        return view

    return mark


def install_input_checks(app: Flask, api=None) -> None:
    """Check every request: its size, path, headers and query before the route (and before
    authentication: refusing is cheaper than verifying a token); its body when something first
    reads it, which in the services is the route's schema, after the route's guard, so
    authorization is still decided before the body is read. With a flask-smorest `api` whose
    blueprints are not registered yet, its OpenAPI documents the error responses too."""
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes()
    app.request_class = CheckedRequest
    app.before_request(check_request)
    if api is not None:
        document_errors(api)


def check_request() -> None:
    request.max_content_length = limit = _route_limit()
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    if _BAD_TEXT.search(request.path):
        raise InputRefused(404, "There is nothing at this address.")
    if any("\x00" in value for value in request.headers.values()):  # X-Correlation-ID is stored
        raise InputRefused(400, "A request header holds a NUL character.")
    _check_fields("query", request.args.items(multi=True))


class CheckedRequest(Request):
    """A request whose body is checked the first time it is read: JSON (depth, text, numbers)
    and form fields (text), and the size cap while streaming."""

    _json_checked = False

    def get_data(self, cache=True, as_text=False, parse_form_data=False):  # type: ignore[override]
        try:
            data = super().get_data(cache, as_text, parse_form_data)
        except RequestEntityTooLarge:
            raise _too_large() from None
        if self.is_json and not self._json_checked:
            self._json_checked = True
            check_json_body(data.encode() if isinstance(data, str) else data)
        return data

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except RequestEntityTooLarge:
            raise _too_large() from None
        if self.mimetype in FORM_MIMETYPES:
            _check_fields("form", self.form.items(multi=True))


def _route_limit() -> int:
    view = current_app.view_functions.get(request.endpoint or "")
    custom = getattr(view, "max_body_bytes", None)
    return custom() if custom is not None else max_body_bytes()


def _too_large() -> InputRefused:
    return InputRefused(
        413, f"The request body is larger than the {_route_limit():,} bytes this accepts."
    )


def _check_fields(location: str, items) -> None:
    errors = {
        _printable(name): [TEXT_REFUSED] for name, value in items if _bad_text(name or "", value)
    }
    if errors:
        raise InputRefused(422, FIELDS_REFUSED, {location: errors})


def _bad_text(*texts: str) -> bool:
    return any(_BAD_TEXT.search(t) for t in texts)


def check_json_body(body: bytes) -> None:
    if not body.strip():
        return  # no body: the route's schema says what is missing
    depth = max_json_depth()
    if json_too_deep(body, depth):
        raise InputRefused(400, f"The JSON body is nested more than {depth} levels deep.")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # also bad UTF-8 and integers of 4,300+ digits
        raise InputRefused(400, "The request body is not valid JSON.") from None
    errors = json_problems(data)
    if errors:
        raise InputRefused(422, "The request is not valid.", {"json": errors})


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def json_too_deep(body: bytes, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` deep, found without parsing (which is
    what overflows the stack); brackets inside strings do not count."""
    depth = 0
    for char in _JSON_STRING.sub(b'""', body).translate(None, _NOT_BRACKETS):
        depth += 1 if char in b"[{" else -1
        if depth > limit:
            return True
    return False


def json_problems(value: Any) -> dict | list[str] | None:
    """Where `value` holds text or numbers that cannot be stored, shaped like marshmallow's
    errors: {field: [message]}, nested for objects, keyed by index for arrays."""
    if isinstance(value, str):
        return [TEXT_REFUSED] if _BAD_TEXT.search(value) else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if INT64_MIN <= value <= INT64_MAX else [NUMBER_REFUSED]
    if isinstance(value, float):
        return None if math.isfinite(value) else [NUMBER_REFUSED]
    items = value.items() if isinstance(value, dict) else enumerate(value)
    errors: dict = {}
    for key, item in items:
        if isinstance(key, str) and _BAD_TEXT.search(key):
            errors[_printable(key)] = [TEXT_REFUSED]
        elif (found := json_problems(item)) is not None:
            errors[key] = found
    return errors or None


def _printable(text: str) -> str:
    # A refused name is echoed escaped, so the error body itself stays valid UTF-8.
    return text.encode("unicode_escape").decode("ascii") if _BAD_TEXT.search(text) else text


class ErrorResponses(BasePlugin):
    """Adds the shared error responses to every operation that does not document them itself."""

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        for operation in (operations or {}).values():
            responses = operation.setdefault("responses", {})
            for status in ERROR_STATUSES:
                if str(status) not in responses and status not in responses:
                    responses[str(status)] = http.HTTPStatus(status).name


def document_errors(api) -> None:
    """Call before registering blueprints: their operations are documented as they register."""
    plugin = ErrorResponses()
    plugin.init_spec(api.spec)
    api.spec.plugins.append(plugin)
