"""Roster previews: the file a coordinator previewed, kept until they confirm it.

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


def upgrade() -> None:
    op.create_table(
        "roster_previews",
        sa.Column("cycle_id", sa.String(36), primary_key=True),
        sa.Column("file_sha256", sa.String(64), primary_key=True),
        sa.Column("institution_id", sa.String(36), nullable=False, index=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    rls.protect(op, {"roster_previews": "tandem_rls_institution(institution_id)"}, [])


def downgrade() -> None:
    rls.unprotect(op, ["roster_previews"])
    op.drop_table("roster_previews")
