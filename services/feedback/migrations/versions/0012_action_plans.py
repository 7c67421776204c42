"""Objectives carry their order, their action plan's steps and the mentor's agreement; their
timeline says what each entry is; a meeting names the objectives it discussed.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "objectives", sa.Column("position", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column("objectives", sa.Column("steps", sa.JSON, nullable=False, server_default="[]"))
    op.add_column("objectives", sa.Column("agreed_by", sa.String(36), nullable=True))
    op.add_column("objectives", sa.Column("agreed_at", sa.String(40), nullable=True))
    op.add_column(
        "objective_history",
        sa.Column("kind", sa.String(12), nullable=False, server_default="status"),
    )
    op.add_column(
        "meetings", sa.Column("objective_ids", sa.JSON, nullable=False, server_default="[]")
    )


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("objective_ids")
    with op.batch_alter_table("objective_history") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("objectives") as batch:
        for column in ("agreed_at", "agreed_by", "steps", "position"):
            batch.drop_column(column)
