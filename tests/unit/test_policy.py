"""The authorization policy itself: scopes, parties, escalation; the README carries its table;
every service route declares a permission from it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from services.eventkit import config
from services.eventkit.auth import ADMIN, COORDINATOR, MENTEE, SYSTEM, Grant, Principal
from services.eventkit.policy import POLICY, Resource, Who, allowed_as, markdown_table, permits

ROOT = Path(__file__).resolve().parents[2]
A, B, P1, P2 = "inst-a", "inst-b", "prog-1", "prog-2"


def who(*grants: Grant, user: str = "u1") -> Principal:
    return Principal(user, grants)


def test_a_program_coordinator_covers_their_program_only():
    coordinator = who(Grant(COORDINATOR, A, P1))
    assert permits(coordinator, "cycle.health", Resource(A, P1))
    assert not permits(coordinator, "cycle.health", Resource(A, P2))
    assert not permits(coordinator, "program.create", Resource(A))  # institution-level
    assert permits(coordinator, "person.list", Resource(A))  # any coordinator of A


def test_an_institution_coordinator_covers_every_program_of_their_institution_only():
    coordinator = who(Grant(COORDINATOR, A))
    assert permits(coordinator, "cycle.health", Resource(A, P2))
    assert permits(coordinator, "program.create", Resource(A))
    assert not permits(coordinator, "cycle.health", Resource(B, P1))


@pytest.mark.parametrize("role", [ADMIN, SYSTEM])
def test_scoped_admin_and_system_grants_stay_within_their_institution(role):
    scoped = who(Grant(role, A))
    assert not permits(scoped, "consortium.operate", Resource())
    assert not permits(scoped, "person.grants", Resource(B, people=frozenset({"p"})))
    consortium_wide = who(Grant(role))
    assert permits(consortium_wide, "consortium.operate", Resource())


def test_nobody_changes_their_own_role():
    admin = who(Grant(ADMIN), user="me")
    assert not permits(admin, "role.grant", Resource(A, parties=frozenset({"me"})))
    assert permits(admin, "role.grant", Resource(A, parties=frozenset({"someone"})))
    program_coordinator = who(Grant(COORDINATOR, A, P1))
    assert not permits(program_coordinator, "role.grant", Resource(A))  # an institution role
    assert permits(program_coordinator, "role.grant", Resource(A, P1))


def test_a_concern_is_for_its_raiser_non_party_coordinators_and_the_admin_once_escalated():
    concern = Resource(A, P1, frozenset({"mentee"}), parties=frozenset({"mentee", "coord"}))
    assert (
        allowed_as(who(Grant(MENTEE, A, P1), user="mentee"), "concern.read", concern) == Who.SUBJECT
    )
    assert permits(who(Grant(COORDINATOR, A, P1), user="other"), "concern.read", concern)
    assert not permits(who(Grant(COORDINATOR, A), user="coord"), "concern.read", concern)
    assert not permits(who(Grant(COORDINATOR, A, P2)), "concern.read", concern)
    assert not permits(who(Grant(ADMIN)), "concern.read", concern)
    escalated = Resource(A, P1, frozenset({"mentee"}), escalated=True)
    assert allowed_as(who(Grant(ADMIN)), "concern.read", escalated) == Who.ESCALATED_ADMIN
    assert POLICY["concern.read"].conceal


def test_the_readme_carries_the_policy_table():
    readme = (ROOT / "README.md").read_text()
    assert markdown_table() in readme, "README's access table differs: run `tandem policy`"


def test_every_service_route_declares_a_permission(tmp_path, monkeypatch):
    monkeypatch.setenv("TANDEM_SERVICE_TOKEN_KEY", "k" * 40)
    missing = []
    for name in config.SERVICES:
        app = importlib.import_module(f"services.{name}.app").create_app(
            f"sqlite:///{tmp_path}/{name}.db"
        )
        spec = app.test_client().get("/api/openapi.json").get_json()
        for path, operations in spec["paths"].items():
            for method, op in operations.items():
                routed = method in ("get", "post", "put", "patch", "delete")
                if routed and op.get("x-permission") not in POLICY:
                    missing.append(f"{name} {method.upper()} {path}")
    assert not missing
