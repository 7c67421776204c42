"""Survey schedules say how many days people have to answer each issue.

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
    op.add_column(
        "survey_schedules",
        sa.Column("days_to_answer", sa.Integer, nullable=False, server_default="14"),
    )


def downgrade() -> None:
    with op.batch_alter_table("survey_schedules") as batch:
        batch.drop_column("days_to_answer")
