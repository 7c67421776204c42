"""The full candidate pool: cycles, matching profiles, status, ranking and conflicts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cycles",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("cross_institution", sa.Boolean, nullable=False),
        sa.Column("pairing_format", sa.String(20), nullable=False),
        sa.Column("group_size", sa.Integer, nullable=True),
    )
    for column in (
        sa.Column("status", sa.String(10), nullable=False, server_default="active"),
        sa.Column("goals", sa.Text, nullable=False, server_default=""),
        sa.Column("languages", sa.JSON, nullable=True),
        sa.Column("meeting_mode", sa.String(10), nullable=False, server_default="either"),
        sa.Column("availability", sa.JSON, nullable=True),
        sa.Column("identity", sa.JSON, nullable=True),
        sa.Column("ranking", sa.JSON, nullable=True),
    ):
        op.add_column("candidates", column)
    op.create_table(
        "conflicts",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("other_person_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("conflicts")
    with op.batch_alter_table("candidates") as batch:
        for name in (
            "status",
            "goals",
            "languages",
            "meeting_mode",
            "availability",
            "identity",
            "ranking",
        ):
            batch.drop_column(name)
    op.drop_table("cycles")
