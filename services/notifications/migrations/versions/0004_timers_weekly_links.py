"""Survey reminders and no-meeting alerts (timers), weekly digests beside daily ones, the email
of password links kept apart from their events, open concerns and closed cycles.

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "cycles", sa.Column("closed", sa.Boolean, nullable=False, server_default=sa.false())
    )
    op.add_column("concerns", sa.Column("raised_event_id", sa.String(36), nullable=True))
    op.add_column(
        "concerns", sa.Column("resolved", sa.Boolean, nullable=False, server_default=sa.false())
    )
    # Digests are keyed by person and channel now (daily "digest", or "weekly"): a new table,
    # so both PostgreSQL and SQLite get the new primary key; waiting digests are daily ones.
    op.create_table(
        "digests_by_channel",
        sa.Column("recipient_id", sa.String(36), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("next_run_at", Timestamp, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.execute(
        "INSERT INTO digests_by_channel (recipient_id, channel, next_run_at, attempts, last_error) "
        "SELECT recipient_id, 'digest', next_run_at, attempts, last_error FROM digests"
    )
    op.drop_table("digests")
    op.rename_table("digests_by_channel", "digests")
    op.create_index("ix_digests_next_run_at", "digests", ["next_run_at"])
    op.create_table(
        "private_bodies",
        sa.Column("notification_id", sa.String(36), primary_key=True),
        sa.Column("text_body", sa.Text, nullable=False),
        sa.Column("html_body", sa.Text, nullable=False),
    )
    op.create_table(
        "survey_reminders",
        sa.Column("instance_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("days_before", sa.Integer, primary_key=True),
        sa.Column("run_at", Timestamp, nullable=False, index=True),
        sa.Column("cycle_id", sa.String(36), nullable=False),
        sa.Column("due_on", sa.String(10), nullable=False),
        sa.Column("source_event_id", sa.String(36), nullable=False),
        sa.Column("correlation_id", sa.String(36), nullable=False),
    )
    op.create_table(
        "survey_answers",
        sa.Column("instance_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), primary_key=True),
    )
    op.create_table(
        "pair_watch",
        sa.Column("pair_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=True, index=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("paired_on", sa.String(10), nullable=True),
        sa.Column("last_met_on", sa.String(10), nullable=True),
        sa.Column("gap_from", sa.String(10), nullable=True),
        sa.Column("gap_event_id", sa.String(36), nullable=True),
        sa.Column("correlation_id", sa.String(36), nullable=True),
        sa.Column("stage", sa.Integer, nullable=False),
        sa.Column("next_alert_at", Timestamp, nullable=True, index=True),
    )


def downgrade() -> None:
    for table in ("pair_watch", "survey_answers", "survey_reminders", "private_bodies"):
        op.drop_table(table)
    op.create_table(
        "digests_daily",
        sa.Column("recipient_id", sa.String(36), primary_key=True),
        sa.Column("next_run_at", Timestamp, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    op.execute(
        "INSERT INTO digests_daily (recipient_id, next_run_at, attempts, last_error) "
        "SELECT recipient_id, next_run_at, attempts, last_error FROM digests "
        "WHERE channel = 'digest'"
    )
    op.drop_table("digests")
    op.rename_table("digests_daily", "digests")
    op.create_index("ix_digests_next_run_at", "digests", ["next_run_at"])
    with op.batch_alter_table("concerns") as batch:
        batch.drop_column("resolved")
        batch.drop_column("raised_event_id")
    with op.batch_alter_table("cycles") as batch:
        batch.drop_column("closed")
