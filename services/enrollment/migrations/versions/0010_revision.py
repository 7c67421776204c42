"""The read models' revision: a count of the consumer's transactions that changed them, which
with the store's sequence makes the ETag of a conditional read.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

from services.eventkit.tables import create_revision, drop_revision

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_revision(op)


def downgrade() -> None:
    drop_revision(op)
