"""The consortium audit trail: one entry per event of every service, and which program each
entity belongs to. Entries are seen by their institution's scope (consortium-level entries only
unrestricted, by the consortium admin); the entity links are the worker's alone.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from services.eventkit import rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from services.enrollment.readmodels.trail import entry_columns, link_columns

    op.create_table("trail_entries", *entry_columns())
    op.create_table("trail_links", *link_columns())
    rls.protect(op, {"trail_entries": "tandem_rls_institution(institution_id)"}, ["trail_links"])


def downgrade() -> None:
    rls.unprotect(op, ["trail_entries", "trail_links"])
    op.drop_table("trail_links")
    op.drop_table("trail_entries")
