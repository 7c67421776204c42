"""The commands that copy the deployment's stores: `tandem backup` and `tandem restore` (the
embedded default's SQLite files), `tandem export-consortium` and `tandem import-consortium`
(its events, whatever the database)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from services.eventkit import config

STORE_COMMANDS = ("backup", "restore", "export-consortium", "import-consortium")


def add_store_parsers(sub) -> None:
    backup = sub.add_parser(
        "backup",
        help="copy every store of the embedded default (SQLite), keys and checkpoints",
        description="A consistent snapshot of each SQLite store (SQLite's online backup API: the "
        "suite may be running), the local keys and the signed checkpoints, with a manifest of "
        "every file's SHA-256. The backup holds the keys: keep it as private as var/. On "
        "PostgreSQL, use pg_dump (this command says how).",
    )
    backup.add_argument(
        "destination",
        nargs="?",
        type=Path,
        help="a new folder, or a file ending .tar, .tar.gz or .tgz "
        "(default: backups/tandem-<time>.tar.gz beside var/)",
    )
    restore = sub.add_parser(
        "restore",
        help="put a backup's stores, keys and checkpoints back (the suite stopped)",
        description="Checks the backup against its manifest, refuses while a suite is running "
        "on these stores, and replaces each store in one rename. Afterwards `tandem SERVICE "
        "verify` checks the chains; `tandem SERVICE republish` sends the restored events again "
        "if the broker lost them.",
    )
    restore.add_argument("source", type=Path, help="a backup folder or tar file")
    restore.add_argument(
        "--force", action="store_true", help="replace the stores that are there already"
    )
    add_move_parsers(sub)


def add_move_parsers(sub) -> None:
    exported = sub.add_parser(
        "export-consortium",
        help="write every service's events, with their hash chains, and the people's data keys "
        "to a file, for another deployment",
        description="Every event of every service as stored (sealed personal fields, hashes), in "
        "store order, then the data key of each person they name: one gzip'd JSON-lines file, "
        "private (0600). Each store is read in one transaction; stop the suite for a cut "
        "consistent across services.",
    )
    exported.add_argument("file", type=Path, help="a new file (e.g. consortium.jsonl.gz)")
    imported = sub.add_parser(
        "import-consortium",
        help="append an export into this deployment's empty stores; rebuild and republish",
        description="Checks every stream's hash chain, adopts the people's keys into this "
        "keyring, appends each service's events sealed under this deployment's audit key, "
        "rebuilds each service's read models and queues the events for its relay (the other "
        "services' read models fill as their workers consume). Refuses a deployment whose "
        "stores hold events. Web sign-ins do not move: use `tandem web account`.",
    )
    imported.add_argument("file", type=Path, help="a file `tandem export-consortium` wrote")


def store_command(args: argparse.Namespace) -> int:
    from . import backup

    if args.command.endswith("-consortium"):
        return _move(args)

    try:
        if args.command == "backup":
            destination = args.destination or backup.default_destination()
            manifest = backup.backup(destination)
            done = {"backup": str(destination.resolve())}
        else:
            manifest = backup.restore(args.source, force=args.force)
            done = {"restored": str(args.source.resolve())}
    except backup.BackupError as exc:
        print(f"tandem {args.command}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({**done, "created_at": manifest["created_at"], "stores": manifest["stores"]}))
    return 0


def _move(args: argparse.Namespace) -> int:
    from services.eventkit.migrations import upgrade

    from . import consortium_io
    from .service_commands import load_service

    try:
        if args.command == "export-consortium":
            done = consortium_io.export(args.file, load_service)
        else:
            for name in config.SERVICES:  # an empty deployment may be a new one
                upgrade(load_service(name).migrations, config.database_url(name))
            done = consortium_io.import_(args.file, load_service)
    except consortium_io.MoveError as exc:
        print(f"tandem {args.command}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(done))
    return 0
