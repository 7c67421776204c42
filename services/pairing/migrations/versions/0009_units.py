"""Published coaching groups and families (units), seen by their members and by the cycle's
institution; a person who shares a unit with the user is seen too (a cross-institution member's
name).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

from services.eventkit import rls

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ME = "tandem_rls_user()"
CYCLE_VISIBLE = (
    "EXISTS (SELECT 1 FROM cycles c"
    " WHERE c.id = units.cycle_id AND tandem_rls_institution(c.institution_id))"
)
# The people policy of 0005, which this one extends.
PEOPLE = (
    "tandem_rls_institution(institution_id) OR id = tandem_rls_user()"
    " OR EXISTS (SELECT 1 FROM candidates c WHERE c.person_id = people.id)"
    " OR "
    + " OR ".join(
        f"EXISTS (SELECT 1 FROM {t} x WHERE people.id IN (x.mentee_id, x.mentor_id)"
        " AND tandem_rls_user() IN (x.mentee_id, x.mentor_id))"
        for t in ("pairs", "requests")
    )
)
UNIT_PARTNER = (
    "EXISTS (SELECT 1 FROM units u WHERE u.member_ids::jsonb @> jsonb_build_array(people.id)"
    f" AND u.member_ids::jsonb @> jsonb_build_array({ME}))"
)
POLICIES = {
    "units": (f"member_ids::jsonb @> jsonb_build_array({ME}) OR {CYCLE_VISIBLE}"),
    "people": f"{PEOPLE} OR {UNIT_PARTNER}",
}


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("unit_id", sa.String(36), primary_key=True),
        sa.Column("cycle_id", sa.String(36), nullable=False, index=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("member_ids", sa.JSON, nullable=False),
        sa.Column("roles", sa.JSON, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("ended_reason", sa.Text, nullable=True),
        sa.Column("rematch_requested_by", sa.String(36), nullable=True),
        sa.Column("rematch_reason", sa.Text, nullable=True),
    )
    rls.protect(op, POLICIES)


def downgrade() -> None:
    rls.protect(op, {"people": PEOPLE})
    rls.unprotect(op, ["units"])
    op.drop_table("units")
