"""Mentors rank mentees: the mentees a mentor would not accept, beside their ranking.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("candidates", sa.Column("not_acceptable", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("candidates", "not_acceptable")
