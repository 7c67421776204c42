"""The access scope row-level security applies: from a principal's grants, per request, and
never carried over from one request to the next."""

from __future__ import annotations

import threading

import pytest

from services.eventkit import rls
from services.eventkit.auth import ADMIN, COORDINATOR, MENTEE, SYSTEM, Grant, Principal
from support import auth_headers


def test_scope_for_takes_the_institutions_of_the_grants():
    who = Principal("u", (Grant(COORDINATOR, "a"), Grant(MENTEE, "b", "p")))
    assert rls.scope_for(who) == rls.AccessScope("u", frozenset({"a", "b"}))


@pytest.mark.parametrize("wide", [Grant(ADMIN), Grant(SYSTEM)])
def test_a_consortium_wide_grant_sees_every_institution(wide):
    scope = rls.scope_for(Principal("u", (Grant(COORDINATOR, "a"), wide)))
    assert scope.institutions is None and scope.unrestricted


def test_no_grants_see_nothing():
    assert rls.scope_for(Principal("u", ())).institutions == frozenset()


def test_scoped_restores_and_threads_start_unrestricted():
    narrow = rls.AccessScope("u", frozenset({"a"}))
    seen: list[rls.AccessScope] = []
    with rls.scoped(narrow):
        assert rls.current() == narrow
        worker = threading.Thread(target=lambda: seen.append(rls.current()))
        worker.start()
        worker.join()
    assert rls.current() == rls.UNRESTRICTED
    assert seen == [rls.UNRESTRICTED]


def test_each_request_starts_denied_and_ends_unrestricted(tmp_path, monkeypatch):
    from services.enrollment.app import create_app

    url = f"sqlite:///{tmp_path / 'scope.db'}"
    app = create_app(url)
    set_scope = rls.set_scope
    calls: list[rls.AccessScope] = []

    def recording(scope: rls.AccessScope) -> None:
        calls.append(scope)
        set_scope(scope)

    monkeypatch.setattr(rls, "set_scope", recording)
    client = app.test_client()
    client.get("/api/stats", headers=auth_headers(Grant(COORDINATOR, "a"), user="c-a"))
    assert calls == [rls.DENY, rls.AccessScope("c-a", frozenset({"a"}))]
    assert rls.current() == rls.UNRESTRICTED  # nothing outlives the request

    calls.clear()
    assert client.get("/api/stats").status_code == 401
    assert calls == [rls.DENY]
    assert rls.current() == rls.UNRESTRICTED
    app.extensions["tandem"].engine.dispose()


def test_a_role_name_with_quotes_is_refused(monkeypatch):
    monkeypatch.setenv("TANDEM_DB_APP_ROLE", 'x"; DROP TABLE events; --')
    with pytest.raises(ValueError, match="quotes"):
        rls.app_role()
    monkeypatch.setenv("TANDEM_DB_APP_ROLE", "")
    assert rls.app_role() == ""
