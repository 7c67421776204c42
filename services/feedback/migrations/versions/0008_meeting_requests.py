"""Meetings on request, and what offering their times needs: each institution's time zone and
each participant's availability grid (filled as enrollment's events are applied again).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

from services.eventkit import rls

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

POLICIES = {
    "meeting_requests": (
        "EXISTS (SELECT 1 FROM pairs p WHERE p.pair_id = meeting_requests.pair_id)"
        " OR EXISTS (SELECT 1 FROM coaching_groups g WHERE g.group_id = meeting_requests.pair_id)"
    ),
}


def upgrade() -> None:
    op.add_column("participants", sa.Column("availability", sa.JSON, nullable=True))
    # Unprotected, as `cycles`: a time zone is no institution's data.
    op.create_table(
        "institutions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("time_zone", sa.String(64), nullable=False),
    )
    op.create_table(
        "meeting_requests",
        sa.Column("request_id", sa.String(36), primary_key=True),
        sa.Column("pair_id", sa.String(36), nullable=False, index=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("institution_id", sa.String(36), nullable=True),
        sa.Column("requested_by", sa.String(36), nullable=False),
        sa.Column("attendees", sa.JSON, nullable=False),
        sa.Column("options", sa.JSON, nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("place", sa.String(500), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("starts_at", sa.String(40), nullable=True, index=True),
        sa.Column("ends_at", sa.String(40), nullable=True),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("answered_by", sa.String(36), nullable=True),
        sa.Column("answer_note", sa.Text, nullable=False, server_default=""),
        sa.Column("requested_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
    )
    rls.protect(op, POLICIES)


def downgrade() -> None:
    rls.unprotect(op, list(POLICIES))
    op.drop_table("meeting_requests")
    op.drop_table("institutions")
    op.drop_column("participants", "availability")
