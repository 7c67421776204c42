"""Row-level security: the app role, and policies on every table that holds institution data.

Unprotected: `institutions`, `programs` and `cycles` (the directory: names, time zones,
signatures, guidelines, meeting expectations),
`pair_members` (pair and person ids only; the recipients policy reads it to let a pair's members
see each other across institutions) and `inbox` (event ids the worker has applied). Tables only the
worker reads (outbox, timers, waiting events, mail bodies) are seen only by unrestricted scopes.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from services.eventkit import rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def recipient_visible(table: str, column: str = "recipient_id") -> str:
    return (
        f"{table}.{column} = tandem_rls_user()"
        f" OR EXISTS (SELECT 1 FROM recipients r WHERE r.id = {table}.{column})"
    )


POLICIES = {
    "events": "tandem_rls_institution(institution_id)",
    # People are seen at their institution, and by the members of a pair they belong to.
    "recipients": (
        "tandem_rls_institution(institution_id) OR id = tandem_rls_user()"
        " OR EXISTS (SELECT 1 FROM pair_members mine JOIN pair_members theirs"
        " ON theirs.pair_id = mine.pair_id"
        " WHERE mine.person_id = tandem_rls_user() AND theirs.person_id = recipients.id)"
    ),
    "staff_grants": "tandem_rls_institution(institution_id) OR person_id = tandem_rls_user()",
    "concerns": "tandem_rls_institution(institution_id)",
    "notifications": recipient_visible("notifications"),
    "deliveries": ("tandem_rls_institution(institution_id) OR recipient_id = tandem_rls_user()"),
    "local_mail": recipient_visible("local_mail"),
    "preferences": recipient_visible("preferences", "person_id"),
    "digests": recipient_visible("digests"),
}
WORKER_ONLY = ["outbox", "waiting", "survey_reminders", "survey_answers", "pair_watch"]
# A password link's mail body: the API writes it, only the worker's sender reads it.
APPEND_ONLY = ["private_bodies"]


def upgrade() -> None:
    rls.protect(op, POLICIES, WORKER_ONLY, APPEND_ONLY)


def downgrade() -> None:
    rls.unprotect(op, [*POLICIES, *WORKER_ONLY, *APPEND_ONLY])
