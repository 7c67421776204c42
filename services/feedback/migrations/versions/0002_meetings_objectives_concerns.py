"""Who is paired (people, cycles, staff roles, pairs, groups), meetings, objectives, concerns.

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
        "participants",
        sa.Column("status", sa.String(10), nullable=False, server_default="active"),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("institution_id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
    )
    op.create_table(
        "cycles",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("program_id", sa.String(36), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=False, index=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("pairing_format", sa.String(20), nullable=False),
        sa.Column("review_months", sa.JSON, nullable=False),
        sa.Column("opened_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "staff_roles",
        sa.Column("grant_key", sa.String(200), primary_key=True),
        sa.Column("person_id", sa.String(36), nullable=False, index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("program_id", sa.String(36), nullable=True),
    )
    op.create_table(
        "pairs",
        sa.Column("pair_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
        sa.Column("mentor_id", sa.String(36), nullable=False, index=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40), nullable=True),
    )
    op.create_table(
        "coaching_groups",
        sa.Column("group_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("coach_id", sa.String(36), nullable=False, index=True),
        sa.Column("member_ids", sa.JSON, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "meetings",
        sa.Column("meeting_id", sa.String(36), primary_key=True),
        sa.Column("pair_id", sa.String(36), nullable=False, index=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("logged_by", sa.String(36), nullable=False),
        sa.Column("met_on", sa.String(10), nullable=False, index=True),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("topics", sa.JSON, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("objectives", sa.JSON, nullable=False),
        sa.Column("action_items", sa.JSON, nullable=False),
        sa.Column("attendees", sa.JSON, nullable=False),
        sa.Column("logged_at", sa.String(40), nullable=False),
        sa.Column("confirmed_by", sa.String(36), nullable=True),
        sa.Column("confirmed_at", sa.String(40), nullable=True),
    )
    op.create_table(
        "objectives",
        sa.Column("objective_id", sa.String(36), primary_key=True),
        sa.Column("pair_id", sa.String(36), nullable=False, index=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("mentee_id", sa.String(36), nullable=False, index=True),
        sa.Column("area", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("due_date", sa.String(10), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("set_by", sa.String(36), nullable=False),
        sa.Column("set_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "objective_history",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("objective_id", sa.String(36), nullable=False, index=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("changed_by", sa.String(36), nullable=False),
        sa.Column("changed_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "concerns",
        sa.Column("concern_id", sa.String(36), primary_key=True),
        sa.Column("pair_id", sa.String(36), nullable=False),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("institution_id", sa.String(36), nullable=True, index=True),
        sa.Column("raised_by", sa.String(36), nullable=False, index=True),
        sa.Column("raiser_role", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("raised_at", sa.String(40), nullable=False),
        sa.Column("ack_due", sa.String(40), nullable=False, index=True),
        sa.Column("acknowledged_by", sa.String(36), nullable=True),
        sa.Column("acknowledged_at", sa.String(40), nullable=True),
        sa.Column("escalated", sa.Boolean, nullable=False),
        sa.Column("escalation_reason", sa.String(20), nullable=True),
        sa.Column("escalated_at", sa.String(40), nullable=True),
        sa.Column("resolved_by", sa.String(36), nullable=True),
        sa.Column("resolved_at", sa.String(40), nullable=True),
        sa.Column("resolution_note", sa.Text, nullable=True),
    )
    op.create_table(
        "concern_access",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("concern_id", sa.String(36), nullable=False, index=True),
        sa.Column("viewer_id", sa.String(36), nullable=False),
        sa.Column("viewer_role", sa.String(20), nullable=False),
        sa.Column("viewed_at", sa.String(40), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "concern_access",
        "concerns",
        "objective_history",
        "objectives",
        "meetings",
        "coaching_groups",
        "pairs",
        "staff_roles",
        "cycles",
        "people",
    ):
        op.drop_table(table)
    with op.batch_alter_table("participants") as batch:
        batch.drop_column("status")
