"""`tandem SERVICE ACTION`: one process of a service (api, consume), or an operator task on
its store (migrate, verify, checkpoint, republish, rebuild, outbox)."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

import sqlalchemy as sa

from services.eventkit import config

from .progress import Progress

SERVICE_ACTIONS = (
    "api",
    "consume",
    "migrate",
    "verify",
    "checkpoint",
    "republish",
    "rebuild",
    "outbox",
)
OUTBOX_ACTIONS = ("list", "retry", "skip")


def load_service(name: str):
    return importlib.import_module(f"services.{name}.service").SERVICE


def add_service_parsers(sub) -> None:
    for name in config.SERVICES:
        svc = sub.add_parser(
            name,
            help=f"the {name} service: a process of it, or a task on its store",
            description=f"The {name} service. api: serve its HTTP API; consume: run its worker "
            "(consumer, relay, timers); migrate: upgrade its database; verify: check its hash "
            "chain, seals and checkpoints; checkpoint: sign its store's head; republish: queue "
            "every stored event for the relay again; rebuild: replay events into its read "
            "models; outbox: its parked rows.",
        )
        svc.add_argument("action", choices=SERVICE_ACTIONS)
        svc.add_argument(
            "outbox_action",
            nargs="?",
            choices=OUTBOX_ACTIONS,
            help="outbox: list the parked rows (default), retry them, or skip those named",
        )
        svc.add_argument(
            "--id",
            type=int,
            action="append",
            dest="row_ids",
            help="outbox retry or skip: this parked row (repeatable)",
        )
        svc.add_argument(
            "--from-topics",
            action="store_true",
            help="rebuild: replay other services' topics instead of the own store",
        )


def service_action(service, args: argparse.Namespace) -> int:
    from services.eventkit import operations
    from services.eventkit.service import Runtime

    if args.action == "api":
        from services.eventkit.serve import serve

        serve(f"services.{service.name}.app:create_app", config.port(service.name), service.name)
        return 0
    if args.action == "consume":
        from services.eventkit.worker import serve_forever

        return serve_forever(service)
    if args.action == "migrate":
        migrate(service)
        return 0
    rt = Runtime(service)
    if args.action == "verify":
        report = operations.verify(rt)
        print(
            json.dumps(
                {
                    "service": service.name,
                    "ok": report.ok,
                    "events": report.events_checked,
                    "streams": report.streams_checked,
                    "sealed_through": report.sealed_through,
                    "checkpoints": report.checkpoints_checked,
                    "first_break": str(report.first_break) if report.first_break else None,
                }
            )
        )
        return 0 if report.ok else 1
    if args.action == "checkpoint":
        signed = operations.checkpoint(rt)
        print(signed.to_json())
        return 0
    if args.action == "republish":
        with Progress(f"{service.name} republish", stored_events(rt)) as bar:
            count = operations.republish(rt, bar.update)
        print(f"{service.name}: queued {count} events for the relay")
        return 0
    if args.action == "outbox":
        return _outbox(rt, args.outbox_action or "list", args.row_ids or [])
    if args.action == "rebuild":
        if args.from_topics:
            with Progress(f"{service.name} rebuild from topics") as bar:
                count = operations.rebuild_from_topics(rt, config.bootstrap_servers(), bar.update)
        else:
            with Progress(f"{service.name} rebuild", stored_events(rt)) as bar:
                count = operations.rebuild_own(rt, bar.update)
        print(f"{service.name}: replayed {count} events")
        return 0
    raise AssertionError(args.action)


def stored_events(rt) -> int:
    events = rt.service.tables.events
    with rt.reading() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(events)).scalar_one()


def _outbox(rt, action: str, row_ids: list[int]) -> int:
    """Parked outbox rows (the broker refused them for good): one JSON line each, or retry."""
    from services.eventkit import operations

    if action == "retry":
        count = operations.retry_parked(rt, row_ids)
        print(f"{rt.service.name}: {count} parked rows queued again")
        return 0 if count or not row_ids else 1
    if action == "skip":
        if not row_ids:
            print("tandem outbox skip: name the rows with --id", file=sys.stderr)
            return 2
        count = operations.skip_parked(rt, row_ids)
        print(f"{rt.service.name}: {count} parked rows skipped; their streams move on")
        return 0 if count == len(row_ids) else 1
    for row in operations.parked_rows(rt):
        print(json.dumps(row))
    return 0


def migrate(service) -> None:
    from services.eventkit.migrations import upgrade

    upgrade(service.migrations, config.database_url(service.name))
    print(f"{service.name}: database at the latest migration")
