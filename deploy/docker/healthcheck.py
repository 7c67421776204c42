#!/opt/tandem/bin/python
"""Container HEALTHCHECK for the Tandem images: GET /healthz of the process this container runs.

Slim images carry no curl, so this uses urllib. One image serves a service's API, its worker and
its one-shot tasks, so the port is chosen from the container's command (PID 1's command line):

- `tandem web` (`web serve`) and `tandem <service> api`: the HTTP port (`<PROCESS>_PORT`, default 8000-8004);
- `tandem <service> consume`: the worker's health port (`<SERVICE>_WORKER_HEALTH_PORT`, default
  the API port + 100, as in services/eventkit/worker.py);
- anything else (migrate, web migrate, topics, demo, ...) runs to completion and has nothing to probe: healthy.

Arguments replace the command line, e.g. `tandem-healthcheck pairing consume`.
Exit status 0 is healthy, 1 unhealthy (Docker's contract).
"""

from __future__ import annotations

import sys
import urllib.request

from services.eventkit import config

TIMEOUT_S = 4.0


def command_line() -> list[str]:
    if len(sys.argv) > 1:
        return sys.argv[1:]
    with open("/proc/1/cmdline", "rb") as handle:
        return handle.read().decode(errors="replace").split("\0")


def health_port(args: list[str]) -> int | None:
    """The port of the `/healthz` to ask, or None for a process without one."""
    for index, arg in enumerate(args):
        if arg == "web":
            # `tandem web` serves; `tandem web migrate` and `web account` run to completion.
            action = args[index + 1] if index + 1 < len(args) else "serve"
            return config.port("web") if action == "serve" else None
        if arg in config.SERVICES:
            action = args[index + 1] if index + 1 < len(args) else ""
            if action == "api":
                return config.port(arg)
            if action == "consume":
                return config.env_int(f"{arg.upper()}_WORKER_HEALTH_PORT", config.port(arg) + 100)
            return None
    return None


def main() -> int:
    port = health_port(command_line())
    if port is None:
        return 0
    host = config.env("TANDEM_BIND_HOST", "0.0.0.0")
    if host in {"0.0.0.0", "::", ""}:
        host = "127.0.0.1"
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=TIMEOUT_S) as reply:
            return 0 if reply.status == 200 else 1
    except OSError as exc:  # URLError, HTTPError (503) and timeouts are all OSErrors
        print(f"unhealthy: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
