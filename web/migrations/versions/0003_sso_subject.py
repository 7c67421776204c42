"""Accounts remember the single sign-on identity they were first signed in with: the provider's
issuer and its subject (sub), unique together.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("sso_issuer", sa.String(255), nullable=True))
        batch.add_column(sa.Column("sso_subject", sa.String(255), nullable=True))
        batch.create_unique_constraint("uq_accounts_sso", ["sso_issuer", "sso_subject"])


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_constraint("uq_accounts_sso", type_="unique")
        batch.drop_column("sso_subject")
        batch.drop_column("sso_issuer")
