"""`tandem backup` and `tandem restore` for the embedded default: every store is a SQLite file
under var/, copied with SQLite's online backup API (a consistent snapshot of each, taken while
the suite may be running), with the local keys and signed checkpoints, into a directory or a
tar file with a manifest of what it holds and each file's SHA-256.

On PostgreSQL the stores belong to the database server, and its own tools (pg_dump, or the
provider's snapshots) take consistent copies: these commands refuse and say so."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path

from services.eventkit import config

from .progress import Progress
from .stores import LOCAL_KEYS, Store, all_stores, local_keys, not_embedded, running_suite

FORMAT = "tandem-backup"
VERSION = 1
MANIFEST = "manifest.json"
TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


class BackupError(Exception):
    """What stops a backup or a restore, said to the operator as is."""


def refuse_postgres(command: str, stores: list[Store]) -> str:
    names = ", ".join(f"{s.name} ({s.safe_url})" for s in stores)
    return (
        f"this command is for the embedded default, where every store is a SQLite file; "
        f"these are not: {names}. Take PostgreSQL copies with its own tools, one database each: "
        "`pg_dump --format=custom --file=NAME.dump DATABASE_URL` and `pg_restore --clean "
        "--dbname=DATABASE_URL NAME.dump` (or the database provider's snapshots). Keep "
        "TANDEM_AUDIT_KEY and TANDEM_KEYRING_KEY with them: without those keys the stores' seals "
        "cannot be checked and personal fields cannot be read."
    )


def default_destination() -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return config.var_dir().parent / "backups" / f"tandem-{stamp}.tar.gz"


def backup(destination: Path) -> dict:
    """Write the backup; returns its manifest."""
    stores = all_stores()
    if elsewhere := not_embedded(stores):
        raise BackupError(refuse_postgres("backup", elsewhere))
    as_tar = destination.name.endswith(TAR_SUFFIXES)
    if destination.exists() and (as_tar or any(destination.iterdir())):
        raise BackupError(f"{destination} already exists; name a new file or an empty folder")
    present = [s for s in stores if s.path.is_file()]
    if not present:
        raise BackupError(f"no store to back up under {config.var_dir()}")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _staging(destination, as_tar) as folder:
        manifest = _snapshot(folder, present)
        if as_tar:
            _write_tar(folder, destination)
    return manifest


@contextlib.contextmanager
def _staging(destination: Path, as_tar: bool) -> Iterator[Path]:
    if not as_tar:
        destination.mkdir(mode=0o700, exist_ok=True)
        yield destination
        return
    with tempfile.TemporaryDirectory(dir=destination.parent, prefix=".backup-") as tmp:
        yield Path(tmp)


def _snapshot(folder: Path, stores: list[Store]) -> dict:
    files: dict[str, dict] = {}
    store_info: dict[str, dict] = {}
    with Progress("backup", len(stores)) as bar:
        for store in stores:
            target = folder / f"{store.name}.db"
            _copy_sqlite(store.path, target)
            store_info[store.name] = {"file": target.name, **_describe(target)}
            files[target.name] = _file_entry(target)
            bar.advance()
    keys = local_keys()
    for name, path in keys.items():
        (folder / "keys").mkdir(mode=0o700, exist_ok=True)
        shutil.copy2(path, folder / "keys" / name)
        files[f"keys/{name}"] = _file_entry(folder / "keys" / name)
    checkpoints = config.checkpoint_dir()
    if checkpoints.is_dir():
        for path in sorted(p for p in checkpoints.rglob("*") if p.is_file()):
            relative = Path("checkpoints") / path.relative_to(checkpoints)
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, folder / relative)
            files[relative.as_posix()] = _file_entry(folder / relative)
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "stores": store_info,
        "keys": sorted(keys),
        "files": files,
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _copy_sqlite(source: Path, target: Path) -> None:
    """One step of the online backup API: the whole database as of one read transaction,
    however busy the suite is writing (a stepwise copy would start over at each write)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        check = dst.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"{source}: the copy fails SQLite's integrity check: {check}")
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)


def _describe(path: Path) -> dict:
    """Enough to recognise the store: its events and last position (stores without events,
    the web's and the keyring, have tables only)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "events" not in tables:
            return {"tables": len(tables)}
        count, last = conn.execute("SELECT count(*), max(position) FROM events").fetchone()
    return {"tables": len(tables), "events": count, "last_position": last}


def _file_entry(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "sha256": _sha256(path)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_tar(folder: Path, destination: Path) -> None:
    mode = "w:gz" if destination.name.endswith((".gz", ".tgz")) else "w"
    tmp = destination.with_name(f".{destination.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode=mode) as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    tmp.replace(destination)


def restore(source: Path, force: bool = False) -> dict:
    """Put a backup's stores, keys and checkpoints in place; returns its manifest."""
    stores = {s.name: s for s in all_stores()}
    if elsewhere := not_embedded(list(stores.values())):
        raise BackupError(refuse_postgres("restore", elsewhere))
    if why := running_suite():
        raise BackupError(f"the suite is running ({why}); stop it before restoring over it")
    if not source.exists():
        raise BackupError(f"{source}: no such backup")
    with _unpacked(source) as folder:
        manifest = _checked_manifest(folder)
        unknown = sorted(set(manifest["stores"]) - set(stores))
        if unknown:
            raise BackupError(f"the backup holds stores this version does not know: {unknown}")
        targets = {name: stores[name].path for name in manifest["stores"]}
        existing = [str(p) for p in targets.values() if p.exists()]
        if existing and not force:
            raise BackupError(
                "restoring would replace these stores: "
                + ", ".join(existing)
                + "; pass --force to replace them"
            )
        with Progress("restore", len(targets)) as bar:
            for name, target in targets.items():
                _put_sqlite(folder / manifest["stores"][name]["file"], target)
                bar.advance()
        _put_keys(folder, manifest)
        _put_checkpoints(folder, manifest)
    return manifest


@contextlib.contextmanager
def _unpacked(source: Path) -> Iterator[Path]:
    if source.is_dir():
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="tandem-restore-") as tmp:
        try:
            with tarfile.open(source) as tar:
                tar.extractall(tmp, filter="data")  # no absolute paths, links out or devices
        except tarfile.TarError as exc:
            raise BackupError(f"{source}: not a backup folder or tar file ({exc})") from exc
        yield Path(tmp)


def _checked_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable {MANIFEST} in the backup ({exc})") from exc
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise BackupError(
            f"not a {FORMAT} version {VERSION} manifest: "
            f"{manifest.get('format')!r} version {manifest.get('version')!r}"
        )
    problems = []
    for name, entry in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif _sha256(path) != entry["sha256"]:
            problems.append(f"{name} does not match its SHA-256")
    for name, store in manifest["stores"].items():
        if store["file"] not in manifest["files"]:
            problems.append(f"the {name} store's file is not listed")
    if problems:
        raise BackupError("the backup does not match its manifest: " + "; ".join(problems))
    return manifest


def _put_sqlite(copy: Path, target: Path) -> None:
    """The copy replaces the store in one rename, its old write-ahead log removed first (it
    belongs to the replaced database)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.restore")
    shutil.copyfile(copy, tmp)
    os.chmod(tmp, 0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{target}{suffix}")
    tmp.replace(target)


def _put_keys(folder: Path, manifest: dict) -> None:
    kept = {filename: variable for variable, filename in LOCAL_KEYS.items()}
    for name in manifest["keys"]:
        variable = kept.get(name)
        if variable and os.environ.get(variable, "").strip():
            print(f"tandem restore: {name} not restored: {variable} is set", file=sys.stderr)
            continue
        target = config.var_dir() / name
        shutil.copyfile(folder / "keys" / name, target)
        os.chmod(target, 0o600)


def _put_checkpoints(folder: Path, manifest: dict) -> None:
    target = config.checkpoint_dir()
    for name in manifest["files"]:
        if name.startswith("checkpoints/"):
            path = target / Path(name).relative_to("checkpoints")
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(folder / name, path)
