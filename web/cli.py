"""`tandem web migrate` and `tandem web account --email EMAIL`."""

from __future__ import annotations

import sys

import sqlalchemy as sa

from services.eventkit import config
from services.eventkit.auth import TokenSigner
from services.eventkit.db import make_engine

from . import db
from .accounts import SET, AccountError, Accounts
from .auth import password_link
from .outbox import NotSent, Outbox
from .services_client import ServicesClient, ServiceUnavailable


def migrate() -> int:
    db.migrate()
    print("web: database at the latest migration")
    return 0


def account(email: str) -> int:
    """Give the enrolled person with this email an account and email them a set-password link
    through the notifications service; the link is printed too, for handing over otherwise."""
    signer = TokenSigner(config.token_key(), config.token_ttl_seconds())
    client = ServicesClient({"enrollment": config.service_url("enrollment")}, signer)
    try:
        person = client.person_by_email(email)
    except ServiceUnavailable as exc:
        print(f"tandem web account: enrollment did not answer ({exc})", file=sys.stderr)
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
        token = accounts.issue_link(person.id, SET)
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
    link = password_link(token)
    try:
        Outbox(config.service_url("notifications"), signer).send_link(
            person.id,
            person.email,
            link,
            SET,
            name=person.name,
            institution_id=person.institution_id,
        )
        sent = f"emailed to {person.email}"
    except NotSent as exc:
        print(f"tandem web account: the link was not emailed ({exc})", file=sys.stderr)
        sent = "not emailed: hand it over yourself"
    print(
        f"Set-password link for {person.name} <{person.email}> (works once, within 72 hours; {sent}):"
    )
    print(link)
    return 0
