"""Tandem's one authorization policy: who may do what to which resource.

Every service route names a permission from `POLICY` and resolves the resource it touches from
the resource's own records (its institution, program and people), never from what the caller
sends. `allowed_as` decides; the README's access table is `markdown_table()`, so the written
policy and the enforced one cannot drift apart. Pure: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

import dataclasses
import enum

from .auth import ADMIN, COORDINATOR, MENTEE, MENTOR, SYSTEM, Grant, Principal


class Who(enum.StrEnum):
    """The capacities in which someone may act on a resource."""

    ADMIN = "consortium admin"  # an admin grant covering the resource's institution
    SYSTEM = "system"  # a service-to-service grant covering the resource's institution
    COORDINATOR = "coordinator"  # of the resource's program (or institution-wide)
    INSTITUTION_COORDINATOR = "institution coordinator"  # of the whole institution only
    ANY_COORDINATOR = "coordinator of any program there"  # institution-level records
    PARTICIPANT = "participant"  # mentor or mentee of the resource's program
    SUBJECT = "the person concerned"  # the person it is about, or a member of the pair or group
    ESCALATED_ADMIN = "consortium admin, once escalated"
    ANYONE = "anyone signed in"


@dataclasses.dataclass(frozen=True)
class Resource:
    """What a permission is checked against, read from the resource's own records."""

    institution_id: str | None = None  # None: the consortium as a whole
    program_id: str | None = None
    people: frozenset[str] = frozenset()  # who it is about: a person, a pair's or group's members
    parties: frozenset[str] = frozenset()  # who may not act on it as staff (a concern's parties)
    escalated: bool = False


@dataclasses.dataclass(frozen=True)
class Rule:
    permission: str
    allow: tuple[Who, ...]
    summary: str
    conceal: bool = False  # refuse as "not found", so the refusal does not reveal it exists

    @property
    def resource(self) -> str:
        return self.permission.partition(".")[0]

    @property
    def action(self) -> str:
        return self.permission.partition(".")[2]


A, S, C, IC, AC, P, ME, EA, ANY = (
    Who.ADMIN,
    Who.SYSTEM,
    Who.COORDINATOR,
    Who.INSTITUTION_COORDINATOR,
    Who.ANY_COORDINATOR,
    Who.PARTICIPANT,
    Who.SUBJECT,
    Who.ESCALATED_ADMIN,
    Who.ANYONE,
)

_RULES = (
    # the consortium and its institutions
    Rule("consortium.operate", (A, S), "run consortium-wide jobs, read service counts"),
    Rule("consortium.outcomes", (A,), "read de-identified outcomes of every program"),
    Rule("institution.create", (A,), "add an institution"),
    Rule("institution.read", (A, S, AC, P), "see an institution"),
    Rule("institution.audit", (A, IC), "read and verify the institution's audit trail"),
    Rule("trail.read", (A, C), "read the consortium audit trail (coordinators: their own)"),
    Rule("trail.export", (A, C), "export the audit trail as CSV (each export is recorded)"),
    Rule("access.record", (S,), "record a sign-in, a failed sign-in or a password link"),
    Rule("institution.deliveries", (A, IC), "read the institution's email deliveries"),
    Rule("institution.staff", (A, AC), "list the institution's staff (rows: staff.read)"),
    Rule("staff.read", (A, C), "see a staff role of a program or institution"),
    Rule("role.grant", (A, C), "grant or revoke a staff role (never one's own)"),
    # programs and cycles
    Rule("program.create", (A, IC), "create a program"),
    Rule("program.read", (A, S, C, P), "see a program and its cycles"),
    Rule("program.update", (A, C), "publish the program's guidelines"),
    Rule("cycle.create", (A, C), "open a cycle of the program"),
    Rule("cycle.read", (A, S, C, P), "see a cycle, its mentors and its pairs (rows: pair.read)"),
    Rule("cycle.manage", (A, C), "close or reopen, import rosters, run and publish pairing"),
    Rule("cycle.roster", (A, C), "see the cycle's roster and candidates"),
    Rule("cycle.health", (C, A), "read program health, survey results and the export"),
    Rule("cycle.surveys", (A, C), "schedule and list the cycle's surveys"),
    # people and their enrollments
    Rule("person.create", (A, AC), "register a person at the institution"),
    Rule("person.list", (A, AC), "search the institution's people"),
    Rule("person.lookup", (S,), "find a person by email (sign-in)"),
    Rule("person.read", (A, S, AC, ME), "see a person's record"),
    Rule("person.update", (A, AC, ME), "change a person's record"),
    Rule("person.card", (A, AC, ME), "see a person's card (and people who share a cycle)"),
    Rule("person.grants", (A, S, ME), "read a person's roles"),
    Rule("person.enrollments", (A, AC, ME), "list a person's enrollments (rows: enrollment.read)"),
    Rule("person.inbox", (ME,), "read and mark one's notifications; set one's preferences"),
    Rule("person.preferences", (A, ME), "read a person's notification preferences"),
    Rule("person.contacts", (ME,), "read the contact details of one's pairs"),
    Rule("person.account_link", (S,), "send a set-password link"),
    Rule("person.erase", (A,), "erase a person's personal data (recorded in the trail)"),
    Rule("enrollment.create", (A, C, ME), "enroll a person in a cycle"),
    Rule("enrollment.read", (A, C, ME), "see an enrollment, its ranking and conflicts"),
    Rule("enrollment.update", (A, C, ME), "change profile, ranking, conflicts; withdraw"),
    # pairs and groups
    Rule("pair.read", (A, C, ME), "see a pair or group, its meetings and objectives"),
    Rule("pair.end", (A, C), "end a pair"),
    Rule("pair.take_part", (ME,), "log and confirm meetings, raise a concern"),
    Rule("pair.plan", (C, ME), "plan a mentee's objectives and steps (mentee, mentor, staff)"),
    Rule("request.read", (A, C, ME), "see a mentee's request to a mentor"),
    Rule("request.answer", (A, C, ME), "accept or decline a request (its mentor, or staff)"),
    # confidential concerns
    Rule("concern.read", (C, EA, ME), "read a concern (every read is recorded)", conceal=True),
    Rule("concern.handle", (C, EA), "acknowledge or resolve a concern", conceal=True),
    Rule("concern.access_log", (C, A), "see who read a concern", conceal=True),
    # surveys
    Rule("survey.templates", (A, AC), "define and list the institution's survey templates"),
    Rule("survey.template", (A, AC), "read a survey template"),
    Rule("survey.answer", (ME,), "answer a survey issued to oneself"),
    Rule("own.read", (ANY,), "list what one may see (rows filtered by their own permission)"),
)

POLICY: dict[str, Rule] = {rule.permission: rule for rule in _RULES}

STAFF_KINDS = (
    Who.ADMIN,
    Who.SYSTEM,
    Who.COORDINATOR,
    Who.INSTITUTION_COORDINATOR,
    Who.ANY_COORDINATOR,
    Who.ESCALATED_ADMIN,
)


def _covers_institution(grant: Grant, resource: Resource) -> bool:
    # A consortium-wide grant covers everything; a scoped one only its own institution, and
    # never consortium-level resources.
    return grant.institution_id is None or grant.institution_id == resource.institution_id


def _coordinates(grant: Grant, resource: Resource, *, any_program: bool = False) -> bool:
    if grant.role != COORDINATOR or grant.institution_id is None:
        return False
    if grant.institution_id != resource.institution_id:
        return False
    if grant.program_id is None or any_program:
        return True
    return resource.program_id is not None and grant.program_id == resource.program_id


def matches(who: Who, principal: Principal, resource: Resource) -> bool:
    """Whether `principal` acts on `resource` in the capacity `who`."""
    if who in STAFF_KINDS and principal.user_id in resource.parties:
        return False
    grants = principal.grants
    match who:
        case Who.ANYONE:
            return True
        case Who.SUBJECT:
            return principal.user_id in resource.people
        case Who.ADMIN:
            return any(g.role == ADMIN and _covers_institution(g, resource) for g in grants)
        case Who.ESCALATED_ADMIN:
            return resource.escalated and matches(Who.ADMIN, principal, resource)
        case Who.SYSTEM:
            return any(g.role == SYSTEM and _covers_institution(g, resource) for g in grants)
        case Who.COORDINATOR:
            return any(_coordinates(g, resource) for g in grants)
        case Who.INSTITUTION_COORDINATOR:
            return any(_coordinates(g, resource) and g.program_id is None for g in grants)
        case Who.ANY_COORDINATOR:
            return any(_coordinates(g, resource, any_program=True) for g in grants)
        case Who.PARTICIPANT:
            return any(
                g.role in (MENTOR, MENTEE)
                and g.institution_id == resource.institution_id
                and (resource.program_id is None or g.program_id == resource.program_id)
                for g in grants
            )
    raise AssertionError(who)


def allowed_as(principal: Principal, permission: str, resource: Resource) -> Who | None:
    """The first capacity in which the principal may do this, or None."""
    rule = POLICY[permission]
    return next((who for who in rule.allow if matches(who, principal, resource)), None)


def permits(principal: Principal, permission: str, resource: Resource) -> bool:
    return allowed_as(principal, permission, resource) is not None


def markdown_table() -> str:
    """The policy as a role by resource and action table (the README carries this text)."""
    heads = ["resource", "action", "what", "admin", "system", "inst. coord.", "program coord.",
             "participant", "the person concerned"]  # fmt: skip
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    for rule in _RULES:
        lines.append(
            "| " + " | ".join([rule.resource, rule.action, rule.summary, *_cells(rule)]) + " |"
        )
    return "\n".join(lines)


def _cells(rule: Rule) -> list[str]:
    allow = set(rule.allow)
    if Who.ANYONE in allow:
        return ["yes"] * 6
    admin = "yes" if Who.ADMIN in allow else ("escalated" if Who.ESCALATED_ADMIN in allow else "")
    program = ""
    if Who.COORDINATOR in allow:
        program = "own program"
    elif Who.ANY_COORDINATOR in allow:
        program = "yes"
    institution = "yes" if allow & {Who.COORDINATOR, Who.INSTITUTION_COORDINATOR,
                                    Who.ANY_COORDINATOR} else ""  # fmt: skip
    return [
        admin,
        "yes" if Who.SYSTEM in allow else "",
        institution,
        program,
        "own program" if Who.PARTICIPANT in allow else "",
        "yes" if Who.SUBJECT in allow else "",
    ]
