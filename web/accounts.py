"""Accounts of the web: argon2id passwords, lockout after failed sign-ins, one-time links.

Every answer about an email is the same whether or not it has an account: failed sign-ins for
unknown emails are counted and locked like an account's, and a wrong email costs one argon2
verification just like a wrong password.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import logging
import os
import re
import secrets
import threading
from functools import cached_property

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.eventkit.db import is_postgres, reading

from . import db

log = logging.getLogger(__name__)

MAX_FAILURES = 5
LOCK_FOR = dt.timedelta(minutes=15)
RESET_TTL = dt.timedelta(hours=1)
INVITE_TTL = dt.timedelta(hours=72)
UNKNOWN_KEPT = dt.timedelta(days=1)

MIN_PASSWORD = 12
MAX_PASSWORD = 128

SET = "set"
RESET = "reset"

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def utcnow() -> dt.datetime:
    """The clock every expiry is measured by (tests move it)."""
    return dt.datetime.now(dt.UTC)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_problem(password: str, email: str = "") -> str | None:
    """Why the password is not acceptable, in words for the form; None when it is."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD} characters."
    classes = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if classes < 2:
        return (
            "Mix at least two kinds of character: lower-case letters, capitals, digits, "
            "spaces or symbols."
        )
    if len(set(password)) < 4:
        return "Use more different characters."
    if email and normalise_email(email) in password.lower():
        return "Do not use your email address in your password."
    return None


class Outcome(enum.Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


@dataclasses.dataclass(frozen=True)
class SignIn:
    outcome: Outcome
    person_id: str | None = None
    email: str | None = None


@dataclasses.dataclass(frozen=True)
class Account:
    person_id: str
    email: str
    has_password: bool
    session_epoch: int
    sso_issuer: str | None = None  # the single sign-on identity bound to the account, if any
    sso_subject: str | None = None

    def bound_to(self, issuer: str, subject: str) -> bool:
        return (self.sso_issuer, self.sso_subject) == (issuer, subject)


@dataclasses.dataclass(frozen=True)
class PasswordLink:
    person_id: str
    email: str
    purpose: str


class AccountError(Exception):
    pass


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # SQLite hands datetimes back without a zone; everything stored is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


# argon2 hashes with several lanes at once, each through 64 MiB: a few sign-ins hashing together
# would take every core from the page views, so they take turns (a slot per two cores).
HASHING_SLOTS = max(1, (os.cpu_count() or 1) // 2)


class Accounts:
    def __init__(self, engine: sa.Engine, hasher: PasswordHasher | None = None) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self._hashing = threading.BoundedSemaphore(HASHING_SLOTS)

    @cached_property
    def _dummy_hash(self) -> str:
        # Verified against when there is no real hash, so an unknown email costs the same time.
        return self.hasher.hash(secrets.token_urlsafe(16))

    # -- accounts -------------------------------------------------------------------------

    def ensure(self, person_id: str, email: str) -> Account:
        """The person's account, created without a password if there is none yet."""
        email = normalise_email(email)
        if not EMAIL_RE.match(email):
            raise AccountError(f"not an email address: {email!r}")
        a = db.accounts
        with self.engine.begin() as conn:
            other = conn.execute(
                sa.select(a.c.person_id).where(a.c.email == email, a.c.person_id != person_id)
            ).first()
            if other is not None:
                raise AccountError("another person's account already uses this email")
            existing = conn.execute(sa.select(a).where(a.c.person_id == person_id)).first()
            if existing is None:
                conn.execute(
                    sa.insert(a).values(
                        person_id=person_id,
                        email=email,
                        password_hash=None,
                        failed_attempts=0,
                        session_epoch=0,
                        created_at=utcnow(),
                    )
                )
            elif existing.email != email:
                conn.execute(sa.update(a).where(a.c.person_id == person_id).values(email=email))
        account = self.get(person_id)
        assert account is not None
        return account

    def get(self, person_id: str) -> Account | None:
        a = db.accounts
        with reading(self.engine) as conn:
            found = conn.execute(sa.select(a).where(a.c.person_id == person_id)).first()
        return _account(found)

    def by_email(self, email: str) -> Account | None:
        a = db.accounts
        with reading(self.engine) as conn:
            found = conn.execute(sa.select(a).where(a.c.email == normalise_email(email))).first()
        return _account(found)

    def record_sign_in(self, person_id: str) -> None:
        a = db.accounts
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(a).where(a.c.person_id == person_id).values(last_signed_in_at=utcnow())
            )

    def signed_in(self, person_ids: list[str]) -> dict[str, dt.datetime]:
        """When each of these people last signed in (those who never have are left out)."""
        a = db.accounts
        found: dict[str, dt.datetime] = {}
        with reading(self.engine) as conn:
            for start in range(0, len(person_ids), 500):
                rows = conn.execute(
                    sa.select(a.c.person_id, a.c.last_signed_in_at).where(
                        a.c.person_id.in_(person_ids[start : start + 500]),
                        a.c.last_signed_in_at.is_not(None),
                    )
                )
                found.update({r.person_id: _aware(r.last_signed_in_at) for r in rows})
        return found

    # -- single sign-on identities -------------------------------------------------------

    def by_sso(self, issuer: str, subject: str) -> Account | None:
        """The account bound to this provider's subject (sub), if any."""
        a = db.accounts
        with reading(self.engine) as conn:
            found = conn.execute(
                sa.select(a).where(a.c.sso_issuer == issuer, a.c.sso_subject == subject)
            ).first()
        return _account(found)

    def bind_sso(self, person_id: str, issuer: str, subject: str) -> bool:
        """Bind the account to the provider's subject, once; True if it is bound to exactly it.

        False when the account is already bound to another identity, or the identity to another
        account: the first binding stays, whoever races.
        """
        a = db.accounts
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    sa.update(a)
                    .where(a.c.person_id == person_id, a.c.sso_subject.is_(None))
                    .values(sso_issuer=issuer, sso_subject=subject)
                )
        except sa.exc.IntegrityError:
            return False
        account = self.get(person_id)
        return account is not None and account.bound_to(issuer, subject)

    # -- signing in -----------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> SignIn:
        email = normalise_email(email)
        now = utcnow()
        a, u = db.accounts, db.unknown_sign_ins
        with reading(self.engine) as conn:
            account = conn.execute(sa.select(a).where(a.c.email == email)).first()
            throttle = account or conn.execute(sa.select(u).where(u.c.email == email)).first()
        locked_until = _aware(throttle.locked_until) if throttle is not None else None
        if locked_until is not None and locked_until > now:
            self._verify(self._dummy_hash, password)  # the same work either way
            return SignIn(Outcome.LOCKED)
        stored = account.password_hash if account is not None else None
        ok = self._verify(stored or self._dummy_hash, password) and stored is not None
        if ok:
            assert account is not None
            self._succeeded(account.person_id, stored, password)
            return SignIn(Outcome.OK, account.person_id, account.email)
        locked = self._failed(email, account is not None, now)
        return SignIn(Outcome.LOCKED if locked else Outcome.WRONG)

    def _verify(self, stored: str, password: str) -> bool:
        try:
            with self._hashing:
                return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def _succeeded(self, person_id: str, stored: str, password: str) -> None:
        values: dict = {"failed_attempts": 0, "locked_until": None}
        if self.hasher.check_needs_rehash(stored):
            values["password_hash"] = self.hasher.hash(password)
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(db.accounts).where(db.accounts.c.person_id == person_id).values(**values)
            )

    def _failed(self, email: str, known: bool, now: dt.datetime) -> bool:
        """Count one failure; True if this email is now locked."""
        table = db.accounts if known else db.unknown_sign_ins
        with self.engine.begin() as conn:
            query = sa.select(table.c.failed_attempts, table.c.locked_until).where(
                table.c.email == email
            )
            if is_postgres(self.engine):
                query = query.with_for_update()
            current = conn.execute(query).first()
            failures = 1
            if current is not None:
                expired = current.locked_until is not None and _aware(current.locked_until) <= now
                failures = 1 if expired else current.failed_attempts + 1
            locked_until = now + LOCK_FOR if failures >= MAX_FAILURES else None
            values = {"failed_attempts": failures, "locked_until": locked_until}
            if known:
                conn.execute(sa.update(table).where(table.c.email == email).values(**values))
            else:
                conn.execute(sa.delete(table).where(table.c.updated_at < now - UNKNOWN_KEPT))
                if current is None:
                    conn.execute(sa.insert(table).values(email=email, updated_at=now, **values))
                else:
                    conn.execute(
                        sa.update(table)
                        .where(table.c.email == email)
                        .values(updated_at=now, **values)
                    )
        if locked_until is not None:
            log.warning(
                "sign-in for one email locked until %s after %s failures", locked_until, failures
            )
        return locked_until is not None

    # -- one-time password links ----------------------------------------------------------

    def issue_link(self, person_id: str, purpose: str) -> str:
        """A new one-time token for the person's set-password or reset link.

        Only its SHA-256 is stored; earlier unused links of the person stop working.
        """
        ttl = INVITE_TTL if purpose == SET else RESET_TTL
        token = secrets.token_urlsafe(32)
        now = utcnow()
        t = db.password_tokens
        with self.engine.begin() as conn:
            conn.execute(sa.delete(t).where(t.c.person_id == person_id, t.c.used_at.is_(None)))
            conn.execute(
                sa.insert(t).values(
                    token_hash=hash_token(token),
                    person_id=person_id,
                    purpose=purpose,
                    created_at=now,
                    expires_at=now + ttl,
                    used_at=None,
                )
            )
        return token

    def begin_reset(self, email: str) -> tuple[str, str] | None:
        """(token, email) for a reset link if the email has an account; None otherwise."""
        account = self.by_email(email)
        if account is None:
            return None
        return self.issue_link(account.person_id, RESET), account.email

    def link(self, token: str) -> PasswordLink | None:
        """Who an unused, unexpired link is for; None for any other token."""
        t, a = db.password_tokens, db.accounts
        with reading(self.engine) as conn:
            found = conn.execute(
                sa.select(t.c.person_id, t.c.purpose, t.c.expires_at, t.c.used_at, a.c.email)
                .join(a, a.c.person_id == t.c.person_id)
                .where(t.c.token_hash == hash_token(token))
            ).first()
        if found is None or found.used_at is not None or _aware(found.expires_at) <= utcnow():
            return None
        return PasswordLink(found.person_id, found.email, found.purpose)

    def set_password(self, token: str, password: str) -> PasswordLink | None:
        """Use the link once to set the password; None if it was used, expired or unknown.

        Clears any lockout and ends every session signed in before.
        """
        link = self.link(token)
        if link is None:
            return None
        problem = password_problem(password, link.email)
        if problem:
            raise AccountError(problem)
        password_hash = self.hasher.hash(password)
        now = utcnow()
        t, a = db.password_tokens, db.accounts
        with self.engine.begin() as conn:
            # Single use even under a race: only one request can flip used_at.
            claimed = conn.execute(
                sa.update(t)
                .where(
                    t.c.token_hash == hash_token(token),
                    t.c.used_at.is_(None),
                    t.c.expires_at > now,
                )
                .values(used_at=now)
            ).rowcount
            if claimed != 1:
                return None
            conn.execute(
                sa.update(a)
                .where(a.c.person_id == link.person_id)
                .values(
                    password_hash=password_hash,
                    failed_attempts=0,
                    locked_until=None,
                    session_epoch=a.c.session_epoch + 1,
                    password_changed_at=now,
                )
            )
            conn.execute(sa.delete(t).where(t.c.person_id == link.person_id, t.c.used_at.is_(None)))
        return link


def _account(found) -> Account | None:
    if found is None:
        return None
    return Account(
        person_id=found.person_id,
        email=found.email,
        has_password=found.password_hash is not None,
        session_epoch=found.session_epoch,
        sso_issuer=found.sso_issuer,
        sso_subject=found.sso_subject,
    )
