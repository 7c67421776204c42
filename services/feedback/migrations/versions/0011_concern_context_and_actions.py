"""A concern names the member it is about, and what its handlers did following it is kept.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

from services.eventkit import rls

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

POLICIES = {
    "concern_actions": (
        "EXISTS (SELECT 1 FROM concerns c WHERE c.concern_id = concern_actions.concern_id)"
    ),
}


def upgrade() -> None:
    op.add_column("concerns", sa.Column("about_id", sa.String(36), nullable=True))
    op.create_table(
        "concern_actions",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("concern_id", sa.String(36), nullable=False, index=True),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("taken_by", sa.String(36), nullable=False),
        sa.Column("taken_at", sa.String(40), nullable=False),
    )
    rls.protect(op, POLICIES)


def downgrade() -> None:
    rls.unprotect(op, list(POLICIES))
    op.drop_table("concern_actions")
    with op.batch_alter_table("concerns") as batch:
        batch.drop_column("about_id")
