"""The demo's sign-ins go through the web's account functions (web.cli.set_passwords)."""

from __future__ import annotations

import pytest

from services.eventkit.db import make_engine
from web.accounts import Accounts, Outcome
from web.cli import set_passwords

PASSWORD = "demo-correct horse battery"


def test_set_passwords_makes_accounts_that_sign_in(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.setenv("WEB_DATABASE_URL", f"sqlite:///{tmp_path}/web.db")
    people = [("p-1", "ada@demo.tandem.example"), ("p-2", "ben@demo.tandem.example")]
    set_passwords(people, PASSWORD)
    set_passwords(people, PASSWORD)  # loading the demo again leaves one account each
    engine = make_engine(f"sqlite:///{tmp_path}/web.db")
    try:
        accounts = Accounts(engine)
        for person_id, email in people:
            signed_in = accounts.sign_in(email, PASSWORD)
            assert (signed_in.outcome, signed_in.person_id) == (Outcome.OK, person_id)
        assert accounts.sign_in(people[0][1], "not the password 1").outcome is Outcome.WRONG
    finally:
        engine.dispose()
