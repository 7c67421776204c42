"""The read models' revision: a count of the consumer's transactions that changed them, which
with the store's sequence makes the ETag of a conditional read.

Revision ID: 0014
Revises: 0013
"""

from alembic import op

from services.eventkit.tables import create_revision, drop_revision

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_revision(op)


def downgrade() -> None:
    drop_revision(op)
