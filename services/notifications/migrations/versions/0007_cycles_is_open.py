"""Cycles say whether they are open (`is_open`, as enrollment's directory projection keeps it)
instead of whether they are closed.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _invert(old: str, new: str, default: sa.sql.elements.ColumnElement) -> None:
    """Replace the boolean column `old` of cycles with `new`, its negation."""
    op.add_column("cycles", sa.Column(new, sa.Boolean, nullable=False, server_default=default))
    op.execute(f"UPDATE cycles SET {new} = NOT {old}")
    with op.batch_alter_table("cycles") as batch:
        batch.drop_column(old)


def upgrade() -> None:
    _invert("closed", "is_open", sa.true())


def downgrade() -> None:
    _invert("is_open", "closed", sa.false())
