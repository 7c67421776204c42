"""Row-level security: the app role, and policies on every table that holds institution data.

Unprotected: `cycles` (the directory the service layer authorises from, as in enrollment) and
`inbox` (event ids the worker has applied). `outbox` is the relay's alone. Pairs and
requests are seen by their members too, so a cross-institution pair reaches both sides.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from services.eventkit import rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CYCLE_VISIBLE = (
    "EXISTS (SELECT 1 FROM cycles c"
    " WHERE c.id = {table}.cycle_id AND tandem_rls_institution(c.institution_id))"
)
MEMBER = "tandem_rls_user() IN (mentee_id, mentor_id)"
# The person shares a pair or a request with the user: a cross-institution partner's name.
PARTNER = " OR ".join(
    f"EXISTS (SELECT 1 FROM {t} x WHERE people.id IN (x.mentee_id, x.mentor_id)"
    " AND tandem_rls_user() IN (x.mentee_id, x.mentor_id))"
    for t in ("pairs", "requests")
)

POLICIES = {
    "events": "tandem_rls_institution(institution_id)",
    "candidates": "tandem_rls_institution(institution_id) OR person_id = tandem_rls_user()",
    "people": (
        "tandem_rls_institution(institution_id) OR id = tandem_rls_user()"
        " OR EXISTS (SELECT 1 FROM candidates c WHERE c.person_id = people.id)"
        f" OR {PARTNER}"
    ),
    "conflicts": (
        "EXISTS (SELECT 1 FROM candidates c WHERE c.enrollment_id = conflicts.enrollment_id)"
    ),
    "proposals": CYCLE_VISIBLE.format(table="proposals"),
    "pairs": f"{MEMBER} OR {CYCLE_VISIBLE.format(table='pairs')}",
    "requests": f"{MEMBER} OR {CYCLE_VISIBLE.format(table='requests')}",
}
WORKER_ONLY = ["outbox"]


def upgrade() -> None:
    rls.protect(op, POLICIES, WORKER_ONLY)


def downgrade() -> None:
    rls.unprotect(op, [*POLICIES, *WORKER_ONLY])
