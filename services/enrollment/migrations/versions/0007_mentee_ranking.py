"""Mentors rank mentees: the mentees a mentor would not accept, beside their ranking.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("enrollments", sa.Column("not_acceptable", sa.JSON, nullable=True))


def downgrade() -> None:
    op.drop_column("enrollments", "not_acceptable")
