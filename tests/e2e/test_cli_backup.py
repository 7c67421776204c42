"""`tandem backup` and `tandem restore` against the running suite. On the embedded default
(SQLite files): a consistent copy taken while the suite runs, refused over the running suite,
checked against its manifest, and restored into another deployment whose chains verify. On
PostgreSQL (TEST_DATABASE_URL set, as in CI): both refuse, pointing to pg_dump."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import pytest
from live import publish_pairs, seed_program

from services.eventkit import config
from services.eventkit.broker import free_ports
from support import run_tandem

pytestmark = [pytest.mark.kafka]


def _on_postgres(live) -> bool:
    return any(live.env.get(f"{s.upper()}_DATABASE_URL") for s in config.SERVICES)


def test_backup_and_restore_refuse_on_postgresql_and_point_to_pg_dump(live_suite, tmp_path):
    if not _on_postgres(live_suite):
        pytest.skip("the suite runs on the embedded default; see the SQLite test below")
    backup = run_tandem(live_suite.env, "backup", str(tmp_path / "b.tar.gz"))
    assert backup.returncode == 1
    assert "embedded default" in backup.stderr and "pg_dump" in backup.stderr
    assert "postgresql" in backup.stderr and not (tmp_path / "b.tar.gz").exists()
    restore = run_tandem(live_suite.env, "restore", str(tmp_path))
    assert restore.returncode == 1 and "pg_dump" in restore.stderr


def _elsewhere(tmp_path: Path) -> dict[str, str]:
    """Another deployment on this machine: its own var/ and ports nothing answers on."""
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_PORT", "_DATABASE_URL"))}
    env["TANDEM_VAR_DIR"] = str(tmp_path / "other" / "var")
    for name, port in zip(("web", *config.SERVICES), free_ports(5), strict=True):
        env[f"{name.upper()}_PORT"] = str(port)
    return env


def test_a_backup_of_the_running_suite_restores_elsewhere_and_verifies(live_suite, tmp_path):
    if _on_postgres(live_suite):
        pytest.skip("the suite runs on PostgreSQL; see the refusal test above")
    publish_pairs(live_suite, seed_program(live_suite, mentors=2, mentees=2))
    archive = tmp_path / "suite.tar.gz"

    made = run_tandem(live_suite.env, "backup", str(archive))  # while the suite runs

    assert made.returncode == 0, made.stderr
    assert made.stderr == ""  # no bar when stderr is not a terminal
    stores = json.loads(made.stdout)["stores"]
    assert set(stores) >= {*config.SERVICES, "web", "keyring"}
    assert stores["enrollment"]["events"] > 0 and stores["pairing"]["events"] > 0
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert {"manifest.json", "enrollment.db", "keys/audit.key", "keys/keyring.key"} <= names
    assert archive.stat().st_mode & 0o077 == 0  # it holds the keys

    over = run_tandem(live_suite.env, "restore", str(archive), "--force")
    assert over.returncode == 1 and "running" in over.stderr

    other = _elsewhere(tmp_path)
    restored = run_tandem(other, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    for service in config.SERVICES:
        verified = run_tandem(other, service, "verify")
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert json.loads(verified.stdout)["events"] == stores[service]["events"]
    again = run_tandem(other, "restore", str(archive))
    assert again.returncode == 1 and "--force" in again.stderr


def test_a_backup_that_does_not_match_its_manifest_is_refused(live_suite, tmp_path):
    if _on_postgres(live_suite):
        pytest.skip("the suite runs on PostgreSQL")
    folder = tmp_path / "copy"
    assert run_tandem(live_suite.env, "backup", str(folder)).returncode == 0
    with (folder / "pairing.db").open("r+b") as db:
        db.seek(200)
        db.write(b"\x00tampered")

    refused = run_tandem(_elsewhere(tmp_path), "restore", str(folder))

    assert refused.returncode == 1
    assert "pairing.db does not match its SHA-256" in refused.stderr
    assert not (tmp_path / "other" / "var" / "enrollment.db").exists()
    (folder / "manifest.json").write_text('{"format": "something else"}')
    assert "not a tandem-backup" in run_tandem(_elsewhere(tmp_path), "restore", str(folder)).stderr
