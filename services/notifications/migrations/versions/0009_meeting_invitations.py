"""Calendar invitations on emails (an .ics a delivery carries) and the day-before reminders of
scheduled meetings.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from services.eventkit import rls

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

WORKER_ONLY = ["meeting_reminders"]


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("calendar", sa.Text, nullable=True))
    op.create_table(
        "meeting_reminders",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("run_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("meeting", sa.JSON, nullable=False),
        sa.Column("source_event_id", sa.String(36), nullable=False),
        sa.Column("correlation_id", sa.String(36), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=True),
    )
    rls.protect(op, {}, WORKER_ONLY)


def downgrade() -> None:
    rls.unprotect(op, WORKER_ONLY)
    op.drop_table("meeting_reminders")
    op.drop_column("deliveries", "calendar")
