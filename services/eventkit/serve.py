"""Serve a WSGI app factory with gunicorn; the app is built in each worker after the fork."""

from __future__ import annotations

import importlib
import json
import os

from gunicorn import glogging, util
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from . import config, logs, metrics

# Refusals gunicorn answers itself, before the app sees the request: (status, reason, message).
_OWN_REFUSALS = {
    LimitRequestLine: (414, "URI Too Long", "The address is too long."),
    LimitRequestHeaders: (431, "Request Header Fields Too Large", "The headers are too large."),
}


class JsonErrorWorker(ThreadWorker):
    """Answers an overlong address or headers in the APIs' JSON error shape, not gunicorn's HTML
    page, so what a client gets matches the OpenAPI."""

    def handle_error(self, req, client, addr, exc) -> None:
        refusal = next((r for kind, r in _OWN_REFUSALS.items() if isinstance(exc, kind)), None)
        if refusal is None:
            super().handle_error(req, client, addr, exc)
            return
        status, reason, message = refusal
        self.log.warning("refused a request from %s: %s", (addr or ("",))[0], exc)
        body = json.dumps({"code": status, "status": reason, "message": message}).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except OSError:
            self.log.debug("could not send the refusal")


class JsonLogger(glogging.Logger):
    """gunicorn's own lines (listening, workers booting, signals) in the suite's log format."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for handler in [*self.error_log.handlers, *self.access_log.handlers]:
            handler.setFormatter(logs.formatter(cfg.proc_name.removeprefix("tandem-")))


class _Gunicorn(BaseApplication):
    def __init__(self, factory: str, options: dict) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings of a newer gunicorn are left out on older ones
                self.cfg.set(key, value)

    def load(self):
        module, _, name = self.factory.partition(":")
        return getattr(importlib.import_module(module), name)()


# An API worker per core (at most a few: the services and the web share the machine). Threads let
# a slow request (an argon2 sign-in, a pairing run) wait beside fast ones. The web keeps one worker
# by default, since its per-address sign-in limits count per process; its threads mostly wait on
# the services, so it has more of them.
MAX_DEFAULT_WORKERS = 4
API_THREADS = 6
WEB_THREADS = 16


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def sizing(name: str) -> tuple[int, int]:
    """(workers, threads) of a process: TANDEM_WEB_* for the web, TANDEM_API_* for the APIs."""
    if name == "web":
        prefix, workers, threads = "TANDEM_WEB", 1, WEB_THREADS
    else:
        prefix, workers, threads = "TANDEM_API", default_workers(), API_THREADS
    return (
        max(1, config.env_int(f"{prefix}_WORKERS", workers)),
        max(1, config.env_int(f"{prefix}_THREADS", threads)),
    )


def serve(factory: str, port: int, name: str) -> None:
    """Run `module:factory` on 0.0.0.0:port (workers and threads from the environment)."""
    workers, threads = sizing(name)
    _Gunicorn(
        factory,
        {
            "bind": f"{config.env('TANDEM_BIND_HOST', '0.0.0.0')}:{port}",
            "workers": workers,
            "threads": threads,
            # The web keeps gunicorn's HTML pages for browsers; the APIs answer JSON.
            "worker_class": ThreadWorker if name == "web" else JsonErrorWorker,
            "proc_name": f"tandem-{name}",
            "accesslog": "-" if config.env("TANDEM_ACCESS_LOG", "0") == "1" else None,
            "logger_class": JsonLogger,
            # No control socket: every gunicorn would share one path in the home folder.
            "control_socket_disable": True,
            "graceful_timeout": 10,
            "timeout": 60,
            # Several workers: each writes its metrics to files any of them adds up.
            **metrics.prepare_multiprocess(name, workers),
        },
    ).run()
