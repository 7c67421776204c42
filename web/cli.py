"""`tandem web migrate`, `tandem web account --email EMAIL`, and the demo's sign-ins."""

from __future__ import annotations

import sys
from collections.abc import Iterable

import sqlalchemy as sa

from services.eventkit import config
from services.eventkit.auth import TokenSigner
from services.eventkit.db import make_engine

from . import db, directory, outbox
from .accounts import SET, AccountError, Accounts
from .client import Client, ServiceError


def migrate() -> int:
    db.migrate()
    print("web: database at the latest migration")
    return 0


def account(email: str) -> int:
    """Give the enrolled person with this email an account and email them a set-password link
    through the notifications service; the link is printed too, for handing over otherwise."""
    signer = TokenSigner(config.token_key(), config.token_ttl_seconds())
    client = Client(
        {name: config.service_url(name) for name in ("enrollment", "notifications")}, signer
    )
    try:
        person = directory.person_by_email(client, email)
    except ServiceError as exc:
        print(f"tandem web account: enrollment did not answer ({exc.detail})", file=sys.stderr)
        return 2
    if person is None:
        print(
            f"tandem web account: no one in enrollment has the email {email!r}; "
            "register the person first",
            file=sys.stderr,
        )
        return 1
    engine = make_engine(db.database_url())
    try:
        accounts = Accounts(engine)
        accounts.ensure(person.id, person.email)
        recipient = outbox.Recipient(person.id, person.email, person.name, person.institution_id)
        link, not_sent = outbox.issue_and_send(client, accounts, recipient, SET)
    except AccountError as exc:
        print(f"tandem web account: {exc}", file=sys.stderr)
        return 1
    except sa.exc.SQLAlchemyError as exc:
        print(
            f"tandem web account: the web database is not usable ({type(exc).__name__}); "
            "run `tandem web migrate` first",
            file=sys.stderr,
        )
        return 2
    finally:
        engine.dispose()
    sent = f"emailed to {person.email}"
    if not_sent is not None:
        print(f"tandem web account: the link was not emailed ({not_sent})", file=sys.stderr)
        sent = "not emailed: hand it over yourself"
    print(
        f"Set-password link for {person.name} <{person.email}> (works once, within 72 hours; {sent}):"
    )
    print(link)
    return 0


def set_passwords(people: Iterable[tuple[str, str]], password: str) -> None:
    """Accounts for these (person id, email) pairs, each with this password, as if they had
    followed a set-password link. For demo data only: real people choose their own."""
    db.migrate()
    engine = make_engine(db.database_url())
    try:
        accounts = Accounts(engine)
        for person_id, email in people:
            accounts.ensure(person_id, email)
            accounts.set_password(accounts.issue_link(person_id, SET), password)
    finally:
        engine.dispose()
