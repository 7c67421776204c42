import jwt
import pytest

from services.eventkit.auth import (
    ADMIN,
    COORDINATOR,
    MENTEE,
    Grant,
    InvalidToken,
    Principal,
    TokenSigner,
)

KEY = "k" * 48


def test_token_round_trip_keeps_grants():
    who = Principal("p1", (Grant(COORDINATOR, "inst-a", "prog-1"), Grant(MENTEE, "inst-b")), "Ana")
    back = TokenSigner(KEY).verify(TokenSigner(KEY).mint(who))
    assert back == who


def test_expired_token_is_refused():
    token = TokenSigner(KEY).mint(Principal("p1", (Grant(ADMIN),)), ttl_seconds=-60)
    with pytest.raises(InvalidToken, match="expired"):
        TokenSigner(KEY).verify(token)


def test_token_signed_with_another_key_is_refused():
    token = TokenSigner("x" * 48).mint(Principal("p1", (Grant(ADMIN),)))
    with pytest.raises(InvalidToken):
        TokenSigner(KEY).verify(token)


def test_unsigned_token_is_refused():
    token = jwt.encode({"sub": "p1", "grants": [{"role": ADMIN}]}, key=None, algorithm="none")
    with pytest.raises(InvalidToken):
        TokenSigner(KEY).verify(token)


def test_short_keys_are_rejected():
    with pytest.raises(ValueError):
        TokenSigner("short")


def test_has_asks_only_whether_a_role_is_held_somewhere():
    # Where a role counts is the policy's question (services/eventkit/policy.py).
    who = Principal("p1", (Grant(COORDINATOR, "inst-a", "prog-1"),))
    assert who.has([COORDINATOR, ADMIN])
    assert not who.has([ADMIN, MENTEE])


@pytest.mark.parametrize(
    ("text", "grant"),
    [
        ("consortium_admin", Grant(ADMIN)),
        ("coordinator:inst-a", Grant(COORDINATOR, "inst-a")),
        ("mentee:inst-a:prog-9", Grant(MENTEE, "inst-a", "prog-9")),
    ],
)
def test_grants_parse_from_the_command_line(text, grant):
    assert Grant.parse(text) == grant


def test_unknown_roles_do_not_parse():
    with pytest.raises(ValueError):
        Grant.parse("superuser")


def test_token_living_longer_than_the_deployment_allows_is_refused():
    long_lived = TokenSigner(KEY, ttl_seconds=10 * 365 * 86400).mint(
        Principal("p1", (Grant(ADMIN),))
    )
    with pytest.raises(InvalidToken, match="lifetime"):
        TokenSigner(KEY, ttl_seconds=300).verify(long_lived)
    within = TokenSigner(KEY, ttl_seconds=300).mint(Principal("p1", (Grant(ADMIN),)))
    assert TokenSigner(KEY, ttl_seconds=300).verify(within).user_id == "p1"
