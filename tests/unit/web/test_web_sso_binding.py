"""An account is bound to one single sign-on identity (issuer and sub), once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.eventkit.db import make_engine
from web import db
from web.accounts import Accounts

NORTH = "https://login.north.example"
SOUTH = "https://login.south.example"


@pytest.fixture
def accounts(tmp_path) -> Iterator[Accounts]:
    url = f"sqlite:///{tmp_path}/web.db"
    db.migrate(url)
    engine = make_engine(url)
    try:
        yield Accounts(engine)
    finally:
        engine.dispose()


def test_the_first_binding_stays_and_finds_the_account(accounts: Accounts) -> None:
    accounts.ensure("p-1", "ada@north.example")
    assert accounts.by_sso(NORTH, "sub-1") is None

    assert accounts.bind_sso("p-1", NORTH, "sub-1")
    assert accounts.bind_sso("p-1", NORTH, "sub-1")  # again: still bound to exactly it

    found = accounts.by_sso(NORTH, "sub-1")
    assert found is not None and found.person_id == "p-1"
    assert accounts.by_sso(SOUTH, "sub-1") is None  # a sub means something only at its issuer
    assert not accounts.bind_sso("p-1", NORTH, "sub-2")
    assert not accounts.bind_sso("p-1", SOUTH, "sub-1")
    assert accounts.get("p-1").bound_to(NORTH, "sub-1")


def test_one_identity_binds_one_account_only(accounts: Accounts) -> None:
    accounts.ensure("p-1", "ada@north.example")
    accounts.ensure("p-2", "ben@north.example")
    assert accounts.bind_sso("p-1", NORTH, "sub-1")

    assert not accounts.bind_sso("p-2", NORTH, "sub-1")
    assert accounts.get("p-2").sso_subject is None
