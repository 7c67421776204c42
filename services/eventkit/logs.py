"""Logs as JSON lines: one object per record, with the request's ids and who asked.

What a line may hold: the time, level, logger, process, message, and while a request or an
event is handled its request id, correlation id, institution ids and the actor's id (never a
name, an email or what someone wrote). Messages themselves name records by id; request bodies
and event payloads are never logged. LOG_FORMAT=text gives the plain format for a terminal.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import json
import logging
import re
import sys
from collections.abc import Iterator

from . import config

FIELDS = ("request_id", "correlation_id", "institution", "actor")
_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("log_context")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# Chatty at INFO and of no use to an operator: each migration step, each Kafka connection.
QUIET = {"alembic": logging.WARNING, "kafka": logging.WARNING}


def safe_id(value: str | None) -> str | None:
    """An id a client sent, if it looks like one (anything else is not written to a log)."""
    value = (value or "").strip()
    return value if _SAFE_ID.match(value) else None


def current() -> dict[str, str]:
    return _context.get({})


def bind(**fields: str | None) -> contextvars.Token:
    merged = {**current(), **{k: v for k, v in fields.items() if v}}
    return _context.set(merged)


def reset(token: contextvars.Token | None = None) -> None:
    if token is not None:
        _context.reset(token)
    else:
        _context.set({})


@contextlib.contextmanager
def bound(**fields: str | None) -> Iterator[None]:
    token = bind(**fields)
    try:
        yield
    finally:
        reset(token)


def forwarded() -> dict[str, str]:
    """Headers that carry this request's ids on to the services it calls: their log lines
    share the request id, and the events they append take it as their correlation id."""
    ctx = current()
    request_id = ctx.get("request_id")
    if not request_id:
        return {}
    return {"X-Request-ID": request_id, "X-Correlation-ID": ctx.get("correlation_id", request_id)}


class JsonFormatter(logging.Formatter):
    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process,
            "msg": record.getMessage(),
        }
        line.update(current())
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def formatter(process: str) -> logging.Formatter:
    if config.env("LOG_FORMAT", "json") == "text":
        return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    return JsonFormatter(process)


def configure(process: str) -> None:
    """The root logger writes to stderr in the chosen format at LOG_LEVEL."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(process))
    handler.set_name("tandem")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "tandem"]:
        root.removeHandler(old)  # configured again (tests call the command more than once)
    root.addHandler(handler)
    root.setLevel(config.env("LOG_LEVEL", "INFO"))
    for name, level in QUIET.items():
        logging.getLogger(name).setLevel(max(level, root.level))
