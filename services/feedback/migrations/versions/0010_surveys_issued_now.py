"""Surveys a coordinator issues now say who issued them and to whom.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("survey_instances", sa.Column("issued_by", sa.String(36), nullable=True))
    op.add_column("survey_instances", sa.Column("audience", sa.String(10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("survey_instances") as batch:
        batch.drop_column("audience")
        batch.drop_column("issued_by")
