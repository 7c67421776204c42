"""Staff grants, pair and group members, concern routing (never concern content), and each
program's institution: what the request, meeting and concern notices need.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("programs", sa.Column("institution_id", sa.String(36), nullable=True))
    op.create_table(
        "staff_grants",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("grant_key", sa.String(120), primary_key=True),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=True, index=True),
        sa.Column("program_id", sa.String(36), nullable=True),
    )
    op.create_table(
        "pair_members",
        sa.Column("pair_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), primary_key=True),
    )
    op.create_table(
        "concerns",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("program_id", sa.String(36), nullable=True),
        sa.Column("involved", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("concerns", "pair_members", "staff_grants"):
        op.drop_table(table)
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("institution_id")
