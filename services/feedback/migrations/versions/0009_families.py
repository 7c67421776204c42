"""Mentoring families beside coaching groups (`kind`), each member's place in the unit (`roles`),
and units a coordinator ended.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("coaching_groups") as batch:
        batch.add_column(sa.Column("kind", sa.String(10), nullable=False, server_default="group"))
        batch.add_column(sa.Column("roles", sa.JSON, nullable=True))
        batch.add_column(
            sa.Column("status", sa.String(10), nullable=False, server_default="active")
        )
        batch.add_column(sa.Column("ended_at", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("coaching_groups") as batch:
        for column in ("ended_at", "status", "roles", "kind"):
            batch.drop_column(column)
