"""The web's own database: accounts (with their single sign-on identity), one-time links and
sign-in throttles.

SQLAlchemy Core tables; the schema itself is made by the Alembic migrations in web/migrations.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from services.eventkit import config
from services.eventkit.migrations import upgrade

MIGRATIONS = Path(__file__).parent / "migrations"
ENGINE_KEY = "tandem.web_db"  # where the running app keeps its engine

metadata = sa.MetaData()

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("person_id", sa.String(36), primary_key=True),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    # NULL until the person follows their set-password link.
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("failed_attempts", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    # Bumped when the password changes: sessions signed in before then stop working.
    sa.Column("session_epoch", sa.Integer, nullable=False, default=0),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True),
    # The single sign-on identity bound at the first sign-in through a provider: later sign-ins
    # are matched by it, so a changed email still finds the person and a reused email does not.
    sa.Column("sso_issuer", sa.String(255), nullable=True),
    sa.Column("sso_subject", sa.String(255), nullable=True),
    # Set at each sign-in (password or single sign-on): coordinators see who has signed in.
    sa.Column("last_signed_in_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("sso_issuer", "sso_subject", name="uq_accounts_sso"),
)

# Failed sign-ins for emails that have no account, counted exactly like an account's, so the
# answers never tell whether an address has an account.
unknown_sign_ins = sa.Table(
    "unknown_sign_ins",
    metadata,
    sa.Column("email", sa.String(254), primary_key=True),
    sa.Column("failed_attempts", sa.Integer, nullable=False, default=0),
    sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

password_tokens = sa.Table(
    "password_tokens",
    metadata,
    # SHA-256 of the token in the link; the token itself is never stored.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "person_id",
        sa.String(36),
        sa.ForeignKey("accounts.person_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("purpose", sa.String(10), nullable=False),  # "set" (invitation) or "reset"
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
)


def database_url() -> str:
    """WEB_DATABASE_URL, else sqlite:///<var_dir>/web.db."""
    return config.database_url("web")


def migrate(url: str | None = None) -> None:
    upgrade(MIGRATIONS, url or database_url())
