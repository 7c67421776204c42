"""Event store, outbox, inbox and the directory read models.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from services.eventkit.tables import create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables(op)
    op.create_table(
        "institutions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("short_code", sa.String(20), nullable=False, unique=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
    )
    op.create_table(
        "programs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("institution_id", sa.String(36), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("program_type", sa.String(50), nullable=False),
        sa.Column("guidelines", sa.Text, nullable=False),
    )
    op.create_table(
        "cycles",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("program_id", sa.String(36), nullable=False, index=True),
        sa.Column("institution_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("cross_institution", sa.Boolean, nullable=False),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("institution_id", sa.String(36), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("training_level", sa.String(30), nullable=False),
        sa.Column("specialty", sa.String(200), nullable=False),
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False, index=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("interests", sa.JSON, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=True),
        sa.UniqueConstraint(
            "cycle_id", "person_id", "role", name="uq_enrollment_cycle_person_role"
        ),
    )


def downgrade() -> None:
    for table in (
        "enrollments",
        "people",
        "cycles",
        "programs",
        "institutions",
        "inbox",
        "outbox",
        "events",
    ):
        op.drop_table(table)
