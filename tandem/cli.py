"""The `tandem` command: run the suite, one process of a service, or an operator task."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path

from services.eventkit import config, logs, tracing
from tandem import errors
from tandem.service_commands import add_service_parsers, load_service, migrate, service_action
from tandem.store_commands import STORE_COMMANDS, add_store_parsers, store_command

DLQ_ACTIONS = ("list", "show", "redrive")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tandem", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    suite = argparse.ArgumentParser(add_help=False)
    suite.add_argument(
        "--port-base",
        type=int,
        metavar="PORT",
        help="the suite on other ports: web PORT, services PORT+1..4, workers' health +100, "
        "embedded broker PORT+92, files under var/PORT (a second suite beside the first)",
    )
    run = sub.add_parser(
        "run",
        parents=[suite],
        help="start the broker (unless configured), every service and the web",
    )
    run.add_argument(
        "--demo", action="store_true", help="load the demo consortium if it is not there"
    )
    status = sub.add_parser(
        "status",
        parents=[suite],
        help="every process of the running suite: ready or not, relay backlog, consumer lag, "
        "dead letters (exit 1 unless all are ready)",
    )
    status.add_argument("--json", action="store_true", help="one JSON object per process")
    dlq = sub.add_parser(
        "dlq",
        parents=[suite],
        help="messages consumers gave up on: list them, show one, send them again",
    )
    dlq.add_argument(
        "dlq_action", nargs="?", default="list", choices=DLQ_ACTIONS,
        help="list (default), show or redrive",
    )  # fmt: skip
    dlq.add_argument(
        "refs",
        nargs="*",
        metavar="TOPIC:PARTITION:OFFSET",
        help="show, redrive: the dead-lettered messages, as `tandem dlq list` names them",
    )
    dlq.add_argument("--service", choices=config.SERVICES, help="only this service's")
    dlq.add_argument("--all", action="store_true", help="redrive: every listed message")
    dlq.add_argument(
        "--by",
        metavar="ID-OR-EMAIL",
        help="redrive: the operator, as the audit trail names them (else: the system)",
    )

    broker = sub.add_parser(
        "broker", help="run the embedded Kafka-compatible broker in the foreground"
    )
    broker.add_argument(
        "--port",
        type=int,
        default=None,
        help="port on 127.0.0.1 (default: that of KAFKA_BOOTSTRAP_SERVERS, 9092)",
    )
    sub.add_parser("topics", help="create every service's topics")
    sub.add_parser("migrate", help="upgrade every service's database")
    web = sub.add_parser("web", help="serve the web front end (or: migrate, account)")
    web.add_argument("action", nargs="?", default="serve", choices=("serve", "migrate", "account"))
    web.add_argument("--email", help="account: the enrolled person to give a web account")

    demo = sub.add_parser("demo", help="load the demo consortium through the enrollment API")
    demo.add_argument("--url", default=None, help="enrollment API (default ENROLLMENT_URL)")
    demo.add_argument(
        "--no-accounts",
        dest="accounts",
        action="store_false",
        help="no web sign-ins (where the web's database is elsewhere): people use password links",
    )

    erase = sub.add_parser(
        "erase", help="erase a person's personal data (their key), recorded as a consortium admin's"
    )
    erase.add_argument("--person", required=True, help="the person's id or email")
    erase.add_argument("--by", required=True, help="id or email of the consortium admin erasing")

    sub.add_parser("policy", help="print the authorization policy as a Markdown table")
    token = sub.add_parser("token", help="mint a service token for scripts")
    token.add_argument("--user", required=True, help="user (person) id the token speaks for")
    token.add_argument(
        "--grant",
        action="append",
        required=True,
        metavar="ROLE[:INSTITUTION[:PROGRAM]]",
        help="a role, consortium-wide or at an institution (repeatable)",
    )
    token.add_argument(
        "--ttl",
        type=int,
        default=None,
        help="seconds, at most TANDEM_TOKEN_TTL_SECONDS (the default): services refuse longer",
    )

    add_service_parsers(sub)
    add_store_parsers(sub)

    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "port_base", None):
        use_port_base(args.port_base, starts_broker=args.command == "run")
    logs.configure(_process_name(args))
    tracing.configure(_process_name(args))
    # SIGTERM ends any command as Ctrl-C does, so its clean-up runs and no child is left
    # (long-running commands put their own handlers in place).
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        return 130
    except errors.EXPECTED as exc:
        print(f"tandem {args.command}: {errors.explain(exc)}", file=sys.stderr)
        return 1


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def use_port_base(base: int, starts_broker: bool) -> None:
    """Every port of the suite from `base`, and its own files, unless set one by one; the
    commands that only talk to that suite find its embedded broker there too."""
    ports = {"WEB_PORT": base, "TANDEM_BROKER_PORT": base + 92}
    for offset, name in enumerate(config.SERVICES, start=1):
        ports[f"{name.upper()}_PORT"] = base + offset
    for name, port in ports.items():
        os.environ.setdefault(name, str(port))
    os.environ.setdefault("TANDEM_VAR_DIR", str(Path("var") / str(base)))
    if not starts_broker:
        os.environ.setdefault(
            "KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{os.environ['TANDEM_BROKER_PORT']}"
        )


def _process_name(args: argparse.Namespace) -> str:
    """How this process is named in its log lines: `enrollment-api`, `web`, `run`, ..."""
    action = getattr(args, "action", None)
    return f"{args.command}-{action}" if args.command in config.SERVICES else args.command


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in config.SERVICES:
        return service_action(load_service(args.command), args)
    if args.command == "run":
        from tandem.supervisor import run_suite

        return run_suite(load_demo=args.demo)
    if args.command == "broker":
        from services.eventkit.broker import run_embedded_broker_foreground

        return run_embedded_broker_foreground(args.port or _bootstrap_port())
    if args.command in STORE_COMMANDS:
        return store_command(args)
    if args.command == "status":
        return _status(args.json)
    if args.command == "dlq":
        from tandem.dlq import dlq

        return dlq(args, load_service)
    if args.command == "topics":
        from services.eventkit.bus import ensure_topics

        topics = [t for name in config.SERVICES for t in load_service(name).topics()]
        ensure_topics(
            config.bootstrap_servers(),
            topics,
            config.topic_partitions(),
            config.topic_replication_factor(),
        )
        print("\n".join(sorted(set(topics))))
        return 0
    if args.command == "migrate":
        for name in config.SERVICES:
            migrate(load_service(name))
        return _web_action("migrate", None)
    if args.command == "web" and args.action != "serve":
        return _web_action(args.action, args.email)
    if args.command == "web":
        from services.eventkit.serve import serve
        from web.db import migrate as migrate_web

        migrate_web()  # before the fork: the accounts tables must be there
        logging.getLogger("tandem.cli").info("web: database at the latest migration")
        serve("web.app:create_app", config.port("web"), "web")
        return 0
    if args.command == "demo":
        from tandem.demo import load_demo

        enrollment = args.url or config.service_url("enrollment")
        loaded = load_demo(enrollment, config.service_url("pairing"), accounts=args.accounts)
        print(json.dumps(loaded))
        return 0
    if args.command == "token":
        return _mint(args)
    if args.command == "erase":
        from tandem.erase import erase

        return erase(args.person, args.by)
    if args.command == "policy":
        from services.eventkit.policy import markdown_table

        print(markdown_table())
        return 0
    raise AssertionError(args.command)


def _status(as_json: bool) -> int:
    from tandem import status

    components = status.collect()
    if as_json:
        for component in components:
            print(json.dumps(component.as_dict()))
    else:
        print(status.table(components))
    return 0 if all(c.ready for c in components) else 1


def _web_action(action: str, email: str | None) -> int:
    from web import cli as web_cli

    if action == "migrate":
        return web_cli.migrate()
    if not email:
        print("tandem web account: --email is required", file=sys.stderr)
        return 2
    return web_cli.account(email)


def _mint(args: argparse.Namespace) -> int:
    from services.eventkit.auth import Grant, Principal, TokenSigner

    try:
        grants = tuple(Grant.parse(g) for g in args.grant)
    except ValueError as exc:
        print(f"tandem token: {exc}", file=sys.stderr)
        return 2
    signer = TokenSigner(config.token_key(), config.token_ttl_seconds())
    if args.ttl is not None and not 0 < args.ttl <= signer.ttl_seconds:
        print(f"tandem token: --ttl must be 1 to {signer.ttl_seconds} seconds", file=sys.stderr)
        return 2
    print(signer.mint(Principal(args.user, grants), args.ttl))
    return 0


def _bootstrap_port() -> int:
    return int(config.bootstrap_servers().split(",")[0].rsplit(":", 1)[1])


if __name__ == "__main__":
    sys.exit(main())
