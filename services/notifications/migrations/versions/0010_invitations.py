"""Invitations on the coordinator's schedule: when each enrolled participant is told, and when
they were.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from services.eventkit import rls

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        "invitations",
        sa.Column("enrollment_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("send_at", timestamp, nullable=True, index=True),
        sa.Column("invited_at", timestamp, nullable=True),
        sa.Column("enrolled_event_id", sa.String(36), nullable=False),
        sa.Column("correlation_id", sa.String(36), nullable=False),
    )
    rls.protect(op, {"invitations": "tandem_rls_institution(institution_id)"})


def downgrade() -> None:
    rls.unprotect(op, ["invitations"])
    op.drop_table("invitations")
