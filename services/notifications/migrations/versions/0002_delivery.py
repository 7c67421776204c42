"""Email delivery, local mail outbox, digests, preferences, institutions, cycles, and reactions
waiting for what they refer to.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "institutions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(300), nullable=False),
    )
    op.create_table(
        "cycles",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("meeting_expectations", sa.Text, nullable=False),
    )
    op.create_table(
        "preferences",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("kind", sa.String(50), primary_key=True),
        sa.Column("channel", sa.String(20), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("notification_id", sa.String(36), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("recipient_id", sa.String(36), nullable=False, index=True),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Timestamp, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.Index("ix_deliveries_due", "channel", "state", "next_attempt_at"),
    )
    op.create_table(
        "local_mail",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("recipient_id", sa.String(36), nullable=False, index=True),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=False),
        sa.Column("kept_at", Timestamp, nullable=False),
    )
    op.create_table(
        "waiting",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("waiting_for", sa.String(36), nullable=False, index=True),
        sa.Column("event", sa.Text, nullable=False),
    )
    op.create_table(
        "digests",
        sa.Column("recipient_id", sa.String(36), primary_key=True),
        sa.Column("next_run_at", Timestamp, nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )


def downgrade() -> None:
    for table in (
        "digests",
        "waiting",
        "local_mail",
        "deliveries",
        "preferences",
        "cycles",
        "institutions",
    ):
        op.drop_table(table)
