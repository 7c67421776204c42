"""The trace each outbox row continues (a W3C traceparent), so the relay's publish joins the
request that appended the event.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

from services.eventkit.tables import add_outbox_trace, drop_outbox_trace

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_trace(op)


def downgrade() -> None:
    drop_outbox_trace(op)
