"""Cycle settings, pronouns, matching profiles, withdrawal, conflicts and staff roles.

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
    op.add_column(
        "programs", sa.Column("guidelines_version", sa.Integer, nullable=False, server_default="1")
    )
    op.add_column(
        "cycles",
        sa.Column("pairing_format", sa.String(20), nullable=False, server_default="one_to_one"),
    )
    op.add_column("cycles", sa.Column("group_size", sa.Integer, nullable=True))
    op.add_column(
        "cycles", sa.Column("meeting_expectations", sa.Text, nullable=False, server_default="")
    )
    op.add_column("cycles", sa.Column("review_months", sa.JSON, nullable=True))
    op.add_column("people", sa.Column("pronouns", sa.String(40), nullable=False, server_default=""))
    for column in (
        sa.Column("status", sa.String(10), nullable=False, server_default="active"),
        sa.Column("goals", sa.Text, nullable=False, server_default=""),
        sa.Column("languages", sa.JSON, nullable=True),
        sa.Column("meeting_mode", sa.String(10), nullable=False, server_default="either"),
        sa.Column("availability", sa.JSON, nullable=True),
        sa.Column("identity", sa.JSON, nullable=True),
        sa.Column("ranking", sa.JSON, nullable=True),
        sa.Column("guidelines_accepted_version", sa.Integer, nullable=True),
        sa.Column("withdrawal_reason", sa.Text, nullable=True),
    ):
        op.add_column("enrollments", column)
    op.create_table(
        "conflicts",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("other_person_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("kind", sa.String(20), nullable=False),
    )
    op.create_table(
        "staff_roles",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("grant_key", sa.String(100), primary_key=True),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=True, index=True),
        sa.Column("program_id", sa.String(36), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("staff_roles")
    op.drop_table("conflicts")
    with op.batch_alter_table("enrollments") as batch:
        for name in (
            "status",
            "goals",
            "languages",
            "meeting_mode",
            "availability",
            "identity",
            "ranking",
            "guidelines_accepted_version",
            "withdrawal_reason",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("people") as batch:
        batch.drop_column("pronouns")
    with op.batch_alter_table("cycles") as batch:
        for name in ("pairing_format", "group_size", "meeting_expectations", "review_months"):
            batch.drop_column(name)
    with op.batch_alter_table("programs") as batch:
        batch.drop_column("guidelines_version")
