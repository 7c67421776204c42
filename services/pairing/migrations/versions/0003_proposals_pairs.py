"""Proposals and published pairs.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "proposals",
        sa.Column("cycle_id", sa.String(36), primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("algorithm", sa.String(20), nullable=False),
        sa.Column("draft", sa.JSON, nullable=False),
        sa.Column("excluded", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
    )
    op.create_table(
        "pairs",
        sa.Column("pair_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
        sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("ended_reason", sa.Text, nullable=True),
        sa.Column("rematch_requested_by", sa.String(36), nullable=True),
        sa.Column("rematch_reason", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("pairs")
    op.drop_table("proposals")
