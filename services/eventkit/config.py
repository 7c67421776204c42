"""Configuration from the environment (12-factor). Every variable is listed in the README."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

DEFAULT_PORTS = {
    "web": 8000,
    "enrollment": 8001,
    "pairing": 8002,
    "feedback": 8003,
    "notifications": 8004,
}
SERVICES = ("enrollment", "pairing", "feedback", "notifications")


def env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name: str, default: int) -> int:
    return int(env(name, str(default)))


def var_dir() -> Path:
    return Path(env("TANDEM_VAR_DIR", "var")).resolve()


def bootstrap_servers() -> str:
    return env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def database_url(service: str) -> str:
    return env(f"{service.upper()}_DATABASE_URL", f"sqlite:///{var_dir() / service}.db")


def port(process: str) -> int:
    return env_int(f"{process.upper()}_PORT", DEFAULT_PORTS[process])


def service_url(service: str) -> str:
    return env(f"{service.upper()}_URL", f"http://127.0.0.1:{port(service)}")


def topic_prefix() -> str:
    """Namespaces topics and consumer groups, for sharing one Kafka cluster between deployments."""
    return env("KAFKA_TOPIC_PREFIX", "")


def topic(service: str) -> str:
    return f"{topic_prefix()}tandem.{service}.v1"


def consumer_group(service: str) -> str:
    return f"{topic_prefix()}tandem-{service}"


def dlq_topic(source_topic: str) -> str:
    return f"{source_topic}.dlq"


def topic_partitions() -> int:
    return env_int("KAFKA_TOPIC_PARTITIONS", 3)


def topic_replication_factor() -> int:
    return env_int("KAFKA_TOPIC_REPLICATION_FACTOR", 1)


def max_poll_interval_ms() -> int:
    return env_int("KAFKA_MAX_POLL_INTERVAL_MS", 10_000)


def token_ttl_seconds() -> int:
    return env_int("TANDEM_TOKEN_TTL_SECONDS", 300)


def token_key() -> str:
    return secret("TANDEM_SERVICE_TOKEN_KEY", "service-token.key")


def audit_key() -> bytes:
    """The key of the stores' seals and checkpoints: kept outside every database."""
    return secret("TANDEM_AUDIT_KEY", "audit.key").encode()


KEYRING_KEY_VARIABLE = "TANDEM_KEYRING_KEY"


def keyring_url() -> str:
    """The keyring's own database: people's data keys, outside every event store. Every process
    must reach the same one, so production names it (a file per container would not be shared)."""
    value = env("TANDEM_KEYRING_URL", "")
    if value:
        return value
    if env("TANDEM_ENV", "development") == "production":
        raise RuntimeError("TANDEM_KEYRING_URL must be set in production")
    return f"sqlite:///{var_dir() / 'keyring.db'}"


def keyring_key() -> bytes:
    """The key-encryption key that wraps the keyring's data keys: kept outside its database."""
    return secret("TANDEM_KEYRING_KEY", "keyring.key").encode()


def checkpoint_dir() -> Path:
    """Where signed checkpoints of each store's head are written (keep a copy elsewhere)."""
    return Path(env("TANDEM_CHECKPOINT_DIR", str(var_dir() / "checkpoints"))).resolve()


def secret(variable: str, filename: str) -> str:
    """The secret in `variable`; outside production, a random one kept under var/ if unset."""
    value = os.environ.get(variable, "").strip()
    if value:
        return value
    if env("TANDEM_ENV", "development") == "production":
        raise RuntimeError(f"{variable} must be set in production")
    return _local_secret(filename)


def _local_secret(filename: str) -> str:
    """Created once: written to a private temporary file and linked into place, so a process
    starting at the same moment never reads a half-written key. Read once per process: the
    audit key is needed on every append."""
    path = var_dir() / filename
    if (known := _LOCAL_SECRETS.get(path)) is not None:
        return known
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{filename}.")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            os.unlink(tmp)
    value = _LOCAL_SECRETS[path] = path.read_text().strip()
    return value


_LOCAL_SECRETS: dict[Path, str] = {}
