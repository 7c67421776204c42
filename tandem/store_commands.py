"""The commands that copy the deployment's stores: `tandem backup` and `tandem restore` (the
embedded default's SQLite files)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

STORE_COMMANDS = ("backup", "restore")


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


def store_command(args: argparse.Namespace) -> int:
    from . import backup

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
