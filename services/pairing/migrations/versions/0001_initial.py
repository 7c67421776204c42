"""Event store, outbox, inbox and the candidate pool.

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
        "people",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("institution_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("training_level", sa.String(30), nullable=False),
        sa.Column("specialty", sa.String(200), nullable=False),
    )
    op.create_table(
        "candidates",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("institution_id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("interests", sa.JSON, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    for table in ("candidates", "people", "inbox", "outbox", "events"):
        op.drop_table(table)
