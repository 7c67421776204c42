"""Helpers for the web tests: the CSRF token of a page, and a signed-in session."""

from __future__ import annotations

import re
import time

from flask.testing import FlaskClient

from services.eventkit.auth import Grant


def csrf_from(html: str) -> str:
    """The CSRF token a page's form carries."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in_as(
    client: FlaskClient, *grants: Grant, person_id: str = "p-staff", name: str = "Sam Staff"
) -> None:
    """A signed-in session for a person with `grants`, without going through the form."""
    app = client.application
    with app.app_context():
        account = app.extensions["tandem.accounts"].ensure(person_id, f"{person_id}@example.org")
    with client.session_transaction() as session:
        session.update(
            person_id=person_id,
            name=name,
            email=account.email,
            grants=[[g.role, g.institution_id, g.program_id] for g in grants],
            epoch=account.session_epoch,
            signed_in_at=time.time(),
            grants_at=time.time(),
        )
        session.permanent = True
