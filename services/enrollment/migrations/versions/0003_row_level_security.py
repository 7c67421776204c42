"""Row-level security: the app role, and policies on every table that holds institution data.

Unprotected: `institutions`, `programs` and `cycles` (the directory: names, settings, guidelines,
and which institution and program each belongs to; the service layer authorises from them, so a
caller of another institution gets 403 rather than 404, and members enrolled from elsewhere reach
their cross-institution cycle) and `inbox` (event ids the worker has applied). `outbox` is the
relay's alone.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

from services.eventkit import rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

POLICIES = {
    "events": "tandem_rls_institution(institution_id)",
    # An enrollment belongs to the cycle's institution; a person enrolled from elsewhere
    # (a cross-institution cycle) still sees their own.
    "enrollments": "tandem_rls_institution(institution_id) OR person_id = tandem_rls_user()",
    # People are seen at their own institution and wherever they are enrolled.
    "people": (
        "tandem_rls_institution(institution_id) OR id = tandem_rls_user()"
        " OR EXISTS (SELECT 1 FROM enrollments e WHERE e.person_id = people.id)"
    ),
    "conflicts": "EXISTS (SELECT 1 FROM enrollments e WHERE e.id = conflicts.enrollment_id)",
    # Consortium-wide grants (no institution) are seen only unrestricted, or by their holder.
    "staff_roles": "tandem_rls_institution(institution_id) OR person_id = tandem_rls_user()",
}
WORKER_ONLY = ["outbox"]


def upgrade() -> None:
    rls.protect(op, POLICIES, WORKER_ONLY)


def downgrade() -> None:
    rls.unprotect(op, [*POLICIES, *WORKER_ONLY])
