"""Surveys: templates, schedules, issued instances and their recipients, responses with history.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "survey_templates",
        sa.Column("template_id", sa.String(36), primary_key=True),
        sa.Column("institution_id", sa.String(36), nullable=False, index=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("builtin", sa.String(40), nullable=True),
        sa.Column("items", sa.JSON, nullable=False),
        sa.Column("defined_by", sa.String(36), nullable=False),
        sa.Column("defined_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "survey_schedules",
        sa.Column("schedule_id", sa.String(36), primary_key=True),
        sa.Column("template_id", sa.String(36), nullable=False),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("months", sa.JSON, nullable=False),
        sa.Column("scheduled_by", sa.String(36), nullable=False),
        sa.Column("scheduled_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("cycle_id", "template_id", name="uq_survey_schedules_cycle_template"),
    )
    op.create_table(
        "survey_instances",
        sa.Column("instance_id", sa.String(36), primary_key=True),
        sa.Column("schedule_id", sa.String(36), nullable=False),
        sa.Column("template_id", sa.String(36), nullable=False),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("month", sa.Integer, nullable=False),
        sa.Column("due_on", sa.String(10), nullable=False),
        sa.Column("issued_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("schedule_id", "month", name="uq_survey_instances_schedule_month"),
    )
    op.create_table(
        "survey_recipients",
        sa.Column("instance_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), primary_key=True, index=True),
        sa.Column("pair_id", sa.String(36), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
    )
    op.create_table(
        "survey_responses",
        sa.Column("instance_id", sa.String(36), primary_key=True),
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("first_answered_at", sa.String(40), nullable=False),
        sa.Column("answered_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "survey_response_history",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("instance_id", sa.String(36), nullable=False, index=True),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("answers", sa.JSON, nullable=False),
        sa.Column("answered_at", sa.String(40), nullable=False),
        sa.UniqueConstraint(
            "instance_id", "person_id", "revision", name="uq_survey_response_history_revision"
        ),
    )


def downgrade() -> None:
    for table in (
        "survey_response_history",
        "survey_responses",
        "survey_recipients",
        "survey_instances",
        "survey_schedules",
        "survey_templates",
    ):
        op.drop_table(table)
