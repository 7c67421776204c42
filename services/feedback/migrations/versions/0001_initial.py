"""Event store, outbox, inbox and the participant roster.

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
        "participants",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=False, index=True),
        sa.Column("person_id", sa.String(36), nullable=False, index=True),
        sa.Column("role", sa.String(10), nullable=False),
    )


def downgrade() -> None:
    for table in ("participants", "inbox", "outbox", "events"):
        op.drop_table(table)
