"""The deployment's stores as an operator's command sees them: each service's event store, the
web's accounts and the keyring, with the local keys that go with the embedded default; and
whether a suite is running on them."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import sqlalchemy as sa

from services.eventkit import config
from services.eventkit.broker import port_open

from .supervisor import STATUS_FILE

# The keys kept under var/ when not given in the environment: without them a restored store's
# seals cannot be checked and its personal fields cannot be read.
LOCAL_KEYS = {
    "TANDEM_AUDIT_KEY": "audit.key",
    "TANDEM_KEYRING_KEY": "keyring.key",
    "TANDEM_SERVICE_TOKEN_KEY": "service-token.key",
}


@dataclasses.dataclass(frozen=True)
class Store:
    name: str
    url: str

    @property
    def is_sqlite(self) -> bool:
        return sa.make_url(self.url).get_backend_name() == "sqlite"

    @property
    def path(self) -> Path:
        database = sa.make_url(self.url).database
        if not self.is_sqlite or not database or database == ":memory:":
            raise ValueError(f"{self.name}: not a SQLite file ({self.safe_url})")
        return Path(database).resolve()

    @property
    def safe_url(self) -> str:
        return sa.make_url(self.url).render_as_string(hide_password=True)


def all_stores() -> list[Store]:
    stores = [Store(name, config.database_url(name)) for name in (*config.SERVICES, "web")]
    return [*stores, Store("keyring", config.keyring_url())]


def not_embedded(stores: list[Store]) -> list[Store]:
    return [s for s in stores if not s.is_sqlite]


def local_keys() -> dict[str, Path]:
    """The key files of the embedded default that exist (a key set in the environment is the
    operator's to keep; it is not in var/)."""
    found = {}
    for variable, filename in LOCAL_KEYS.items():
        path = config.var_dir() / filename
        if not os.environ.get(variable, "").strip() and path.is_file():
            found[filename] = path
    return found


def running_suite() -> str | None:
    """Why the suite looks running (a live supervisor, or a process answering on a suite
    port), or None."""
    status = config.var_dir() / STATUS_FILE
    if status.is_file():
        try:
            pid = int(json.loads(status.read_text()).get("supervisor_pid") or 0)
        except (ValueError, OSError):
            pid = 0
        if pid and _alive(pid):
            return f"`tandem run` is running (process {pid})"
    for process in ("web", *config.SERVICES):
        port = config.port(process)
        if port_open("127.0.0.1", port):
            return f"something answers on the {process} port {port}"
    return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
