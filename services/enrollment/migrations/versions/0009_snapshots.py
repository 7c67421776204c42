"""Aggregate snapshots: an aggregate's state as of a version of its stream, so a stream of a
few large events is not replayed whole on every load.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from services.eventkit.tables import create_snapshots, drop_snapshots

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_snapshots(op)


def downgrade() -> None:
    drop_snapshots(op)
