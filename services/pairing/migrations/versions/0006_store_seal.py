"""The store-wide sequence and keyed seal on every event (tamper evidence), and the events
stored before it numbered and sealed.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from services.eventkit.tables import add_store_seal, drop_store_seal

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_store_seal(op)


def downgrade() -> None:
    drop_store_seal(op)
