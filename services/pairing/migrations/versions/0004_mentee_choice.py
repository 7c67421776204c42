"""Mentee-choice requests.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("round_id", sa.String(36), nullable=False),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
        sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("deadline", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("requests")
