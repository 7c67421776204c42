"""Serve a WSGI app factory with gunicorn; the app is built in each worker after the fork."""

from __future__ import annotations

import importlib

from gunicorn.app.base import BaseApplication

from . import config


class _Gunicorn(BaseApplication):
    def __init__(self, factory: str, options: dict) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        module, _, name = self.factory.partition(":")
        return getattr(importlib.import_module(module), name)()


def serve(factory: str, port: int, name: str) -> None:
    """Run `module:factory` on 0.0.0.0:port (workers and threads from the environment)."""
    _Gunicorn(
        factory,
        {
            "bind": f"{config.env('TANDEM_BIND_HOST', '0.0.0.0')}:{port}",
            "workers": config.env_int("TANDEM_API_WORKERS", 1),
            "threads": config.env_int("TANDEM_API_THREADS", 4),
            "worker_class": "gthread",
            "proc_name": f"tandem-{name}",
            "accesslog": "-" if config.env("TANDEM_ACCESS_LOG", "0") == "1" else None,
            "graceful_timeout": 10,
            "timeout": 60,
        },
    ).run()
