"""Signed, short-lived service tokens carrying a user's roles per institution and program."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any

import jwt

ADMIN = "consortium_admin"
COORDINATOR = "coordinator"
MENTOR = "mentor"
MENTEE = "mentee"
SYSTEM = "system"
ROLES = (ADMIN, COORDINATOR, MENTOR, MENTEE, SYSTEM)

AUDIENCE = "tandem-services"
CLOCK_SKEW_S = 10  # clocks of the web and the services may differ this much
ISSUER = "tandem"


class InvalidToken(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Grant:
    """A role, either consortium-wide (no institution) or held at one institution or program."""

    role: str
    institution_id: str | None = None
    program_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "institution_id": self.institution_id,
            "program_id": self.program_id,
        }

    @classmethod
    def parse(cls, text: str) -> Grant:
        """`role`, `role:institution` or `role:institution:program` (for the command line)."""
        role, _, rest = text.partition(":")
        institution, _, program = rest.partition(":")
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        return cls(role, institution or None, program or None)


@dataclasses.dataclass(frozen=True)
class Principal:
    user_id: str
    grants: tuple[Grant, ...]
    name: str = ""

    def has(self, roles: Iterable[str]) -> bool:
        """Whether one of `roles` is held anywhere (where it counts is the policy's question)."""
        wanted = set(roles)
        return any(g.role in wanted for g in self.grants)

    def actor(self) -> dict[str, str]:
        primary = self.grants[0].role if self.grants else "user"
        return {"id": self.user_id, "role": primary}


class TokenSigner:
    def __init__(self, key: str, ttl_seconds: int = 300) -> None:
        if len(key) < 32:
            raise ValueError("the service token key must be at least 32 characters")
        self._key = key
        self.ttl_seconds = ttl_seconds

    def mint(self, principal: Principal, ttl_seconds: int | None = None) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {
            "sub": principal.user_id,
            "name": principal.name,
            "grants": [g.to_dict() for g in principal.grants],
            "iat": now,
            "exp": now + dt.timedelta(seconds=ttl_seconds or self.ttl_seconds),
            "aud": AUDIENCE,
            "iss": ISSUER,
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
                leeway=CLOCK_SKEW_S,
            )
            grants = tuple(
                Grant(g["role"], g.get("institution_id"), g.get("program_id"))
                for g in claims.get("grants", [])
            )
            lifetime = float(claims["exp"]) - float(claims["iat"])
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except (jwt.InvalidTokenError, KeyError, TypeError, ValueError) as exc:
            raise InvalidToken(f"invalid token: {exc}") from exc
        # A token minted to live longer than this deployment allows is refused, whoever signed it.
        if lifetime > self.ttl_seconds + CLOCK_SKEW_S:
            raise InvalidToken("token lifetime exceeds the allowed maximum")
        return Principal(
            user_id=str(claims["sub"]), grants=grants, name=str(claims.get("name", ""))
        )


def system_principal() -> Principal:
    return Principal(user_id="system", grants=(Grant(SYSTEM),), name="Tandem system")
