"""Row-level security: the app role, and policies on every table that holds institution data.

Unprotected: `cycles` (the directory the service layer authorises from, as in enrollment) and
`inbox` (event ids the worker has applied). `outbox` is the relay's alone. Pairs,
groups and what hangs off them (meetings, objectives) are seen by their members too, so a
cross-institution pair reaches both sides; everything else follows its cycle's institution.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

from services.eventkit import rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def cycle_visible(table: str) -> str:
    return (
        f"EXISTS (SELECT 1 FROM cycles c"
        f" WHERE c.id = {table}.cycle_id AND tandem_rls_institution(c.institution_id))"
    )


def relationship_visible(table: str) -> str:
    """The pair or coaching group the row belongs to is visible (by its own policy)."""
    return (
        f"EXISTS (SELECT 1 FROM pairs p WHERE p.pair_id = {table}.pair_id)"
        f" OR EXISTS (SELECT 1 FROM coaching_groups g WHERE g.group_id = {table}.pair_id)"
    )


def partner(person: str) -> str:
    """`person` shares a pair or coaching group with the user (names and withdrawals of a
    cross-institution partner)."""
    me = "tandem_rls_user()"
    return (
        f"EXISTS (SELECT 1 FROM pairs p WHERE {person} IN (p.mentee_id, p.mentor_id)"
        f" AND {me} IN (p.mentee_id, p.mentor_id))"
        " OR EXISTS (SELECT 1 FROM coaching_groups g"
        f" WHERE (g.coach_id = {person} OR g.member_ids::jsonb @> jsonb_build_array({person}))"
        f" AND (g.coach_id = {me} OR g.member_ids::jsonb @> jsonb_build_array({me})))"
    )


def instance_visible(table: str) -> str:
    return f"EXISTS (SELECT 1 FROM survey_instances i WHERE i.instance_id = {table}.instance_id)"


POLICIES = {
    "events": "tandem_rls_institution(institution_id)",
    "participants": (
        "tandem_rls_institution(institution_id) OR person_id = tandem_rls_user()"
        f" OR {partner('participants.person_id')}"
    ),
    "people": (
        "tandem_rls_institution(institution_id) OR id = tandem_rls_user()"
        " OR EXISTS (SELECT 1 FROM participants p WHERE p.person_id = people.id)"
        f" OR {partner('people.id')}"
    ),
    "staff_roles": "tandem_rls_institution(institution_id) OR person_id = tandem_rls_user()",
    "pairs": f"tandem_rls_user() IN (mentee_id, mentor_id) OR {cycle_visible('pairs')}",
    "coaching_groups": (
        "coach_id = tandem_rls_user()"
        " OR member_ids::jsonb @> jsonb_build_array(tandem_rls_user())"
        f" OR {cycle_visible('coaching_groups')}"
    ),
    "meetings": relationship_visible("meetings"),
    "objectives": relationship_visible("objectives"),
    "objective_history": (
        "EXISTS (SELECT 1 FROM objectives o WHERE o.objective_id = objective_history.objective_id)"
    ),
    "concerns": (
        "tandem_rls_institution(institution_id) OR raised_by = tandem_rls_user()"
        f" OR {cycle_visible('concerns')}"
    ),
    "concern_access": (
        "EXISTS (SELECT 1 FROM concerns c WHERE c.concern_id = concern_access.concern_id)"
    ),
    "survey_templates": "tandem_rls_institution(institution_id)",
    "survey_schedules": (
        f"tandem_rls_institution(institution_id) OR {cycle_visible('survey_schedules')}"
    ),
    "survey_instances": (
        f"tandem_rls_institution(institution_id) OR {cycle_visible('survey_instances')}"
    ),
    "survey_recipients": (
        f"person_id = tandem_rls_user() OR {instance_visible('survey_recipients')}"
    ),
    "survey_responses": f"person_id = tandem_rls_user() OR {instance_visible('survey_responses')}",
    "survey_response_history": (
        f"person_id = tandem_rls_user() OR {instance_visible('survey_response_history')}"
    ),
}
WORKER_ONLY = ["outbox"]


def upgrade() -> None:
    rls.protect(op, POLICIES, WORKER_ONLY)


def downgrade() -> None:
    rls.unprotect(op, [*POLICIES, *WORKER_ONLY])
