"""The access matrix: every route of every service's OpenAPI, asked by every kind of principal,
against real resources of every kind, answers as the authorization policy says.

The routes come from each running service's /api/openapi.json, so a new route is checked as
soon as it exists; one without an `x-permission` fails here. Expected answers come from
`services.eventkit.policy` applied to what this test knows about each resource (its institution,
program and people), so the routes' own resolution of their resources is what is on trial.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from live import LiveSuite, publish_pairs, seed_program

from services.eventkit import config
from services.eventkit.auth import ADMIN, COORDINATOR, SYSTEM, Grant, Principal
from services.eventkit.policy import POLICY, Resource, permits
from support import wait_until

pytestmark = [pytest.mark.kafka]

METHODS = ("get", "post", "put", "patch", "delete")
# Requests that change state in ways later requests should not see run last, in this order.
LAST = (
    ("POST", "/api/concerns/{concern_id}/resolve"),
    ("POST", "/api/meeting-requests/{meeting_request_id}/cancel"),
    ("POST", "/api/people/{person_id}/roles/revoke"),
    ("POST", "/api/requests/{request_id}/decline"),
    ("POST", "/api/pairs/{pair_id}/end"),
    ("POST", "/api/enrollments/{enrollment_id}/withdraw"),
    ("POST", "/api/enrollments/{enrollment_id}/reenroll"),
    ("POST", "/api/cycles/{cycle_id}/close"),
    ("POST", "/api/cycles/{cycle_id}/reopen"),
    ("POST", "/api/people/{person_id}/erasure"),
)


@dataclasses.dataclass
class Target:
    id: str
    resource: Resource


@dataclasses.dataclass
class World:
    live: LiveSuite
    targets: dict[str, Target]  # by path parameter name
    principals: dict[str, Principal]
    ids: dict[str, str]


def _people(*ids: str) -> frozenset[str]:
    return frozenset(ids)


def _grants(live: LiveSuite, person_id: str) -> tuple[Grant, ...]:
    system = Principal("system", (Grant(SYSTEM),))
    rows = live.ok("enrollment", "GET", f"/api/people/{person_id}/grants", principal=system)
    return tuple(Grant(r["role"], r["institution_id"], r["program_id"]) for r in rows)


def _as(live: LiveSuite, person: dict) -> Principal:
    return Principal(person["id"], _grants(live, person["id"]), person["name"])


def _register(live: LiveSuite, institution_id: str, name: str, level: str = "PGY1") -> dict:
    tag = secrets.token_hex(3)
    return live.ok(
        "enrollment",
        "POST",
        "/api/people",
        {
            "institution_id": institution_id,
            "name": name,
            "email": f"{name.lower().replace(' ', '.')}.{tag}@matrix.example",
            "training_level": level,
        },
    )


@pytest.fixture(scope="module")
def world(live_suite: LiveSuite) -> World:
    live = live_suite
    cycle = {"name": "2026-27", "cross_institution": True, "review_months": [6]}
    a = seed_program(live, mentors=3, mentees=3, cycle=cycle)
    b = seed_program(live, mentors=1, mentees=1)
    inst_a, p1, c1 = a.institution["id"], a.program["id"], a.cycle_id
    inst_b = b.institution["id"]

    # A second program of institution A with its own cycle, coordinator and a mentee-choice
    # request; program coordinators of each program.
    p2 = live.ok(
        "enrollment",
        "POST",
        f"/api/institutions/{inst_a}/programs",
        {"name": "Lab mentoring", "program_type": "resident_peer_mentoring", "guidelines": "Meet."},
    )["id"]
    c2 = live.ok("enrollment", "POST", f"/api/programs/{p2}/cycles", {"name": "2026"})["id"]
    coordinators = {}
    for key, program in (("p1", p1), ("p2", p2)):
        person = _register(live, inst_a, f"Program Coordinator {key.upper()}")
        grant = {"role": COORDINATOR, "institution_id": inst_a, "program_id": program}
        live.ok("enrollment", "POST", f"/api/people/{person['id']}/roles", grant)
        coordinators[key] = person
    lab_mentor = _register(live, inst_a, "Lab Mentor", "PGY4")
    lab_mentee = _register(live, inst_a, "Lab Mentee")
    enrolled = {}
    for person, role in ((lab_mentor, "mentor"), (lab_mentee, "mentee")):
        body = {"person_id": person["id"], "role": role, "interests": ["research"]}
        if role == "mentor":
            body["capacity"] = 1
        enrolled[role] = live.ok("enrollment", "POST", f"/api/cycles/{c2}/enrollments", body)
    live.ok(
        "enrollment",
        "PUT",
        f"/api/enrollments/{enrolled['mentee']['id']}/ranking",
        {"mentor_enrollment_ids": [enrolled["mentor"]["id"]]},
    )

    # A mentee of institution B in A's cross-institution cycle (virtual cross-site mentorship).
    cross = b.mentees[0]
    live.ok(
        "enrollment",
        "POST",
        f"/api/cycles/{c1}/enrollments",
        {"person_id": cross["id"], "role": "mentee", "interests": ["research"]},
    )
    wait_until(
        lambda: len(live.ok("pairing", "GET", f"/api/cycles/{c1}/candidates")) >= 7, timeout_s=60
    )
    pairs = publish_pairs(live, a)
    by_mentee = {p["mentee_id"]: p for p in pairs}
    mentee = a.mentees[0]
    pair = by_mentee[mentee["id"]]
    mentor = next(m for m in a.mentors if m["id"] == pair["mentor_id"])
    cross_pair = by_mentee[cross["id"]]
    other_pair = next(p for p in pairs if p["mentor_id"] != mentor["id"])
    people = {p["id"]: p for p in (*a.mentors, *a.mentees, cross)}

    def request_waiting() -> list[dict]:
        live.ok("pairing", "POST", f"/api/cycles/{c2}/choice-rounds", {"response_hours": 48})
        return live.ok("pairing", "GET", f"/api/cycles/{c2}/requests")

    [request] = wait_until(request_waiting, timeout_s=60, interval_s=1)

    as_mentee, as_coordinator = _as(live, mentee), _as(live, a.coordinator)
    wait_until(lambda: live.ok("feedback", "GET", "/api/me/pairs", principal=as_mentee), 60)
    meeting = live.ok(
        "feedback",
        "POST",
        f"/api/pairs/{pair['pair_id']}/meetings",
        {"date": dt.date.today().isoformat(), "duration_minutes": 45, "mode": "in_person"},
        principal=as_mentee,
    )
    objective = live.ok(
        "feedback",
        "POST",
        f"/api/pairs/{pair['pair_id']}/objectives",
        {"area": "research", "title": "Submit an abstract"},
        principal=as_mentee,
    )
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    meeting_request = live.ok(
        "feedback", "POST", f"/api/pairs/{pair['pair_id']}/meeting-requests",
        {"options": [soon], "mode": "virtual"}, principal=as_mentee,
    )  # fmt: skip
    concern = live.ok(
        "feedback",
        "POST",
        f"/api/pairs/{pair['pair_id']}/concerns",
        {"kind": "other", "text": "Meetings keep being cancelled."},
        principal=as_mentee,
    )
    template = live.ok(
        "feedback",
        "POST",
        f"/api/institutions/{inst_a}/survey-templates",
        {"name": "Check-in", "items": [{"item_id": "ok", "kind": "likert", "prompt": "Helpful?"}]},
        principal=as_coordinator,
    )
    live.ok(
        "feedback",
        "POST",
        f"/api/cycles/{c1}/survey-schedules",
        {"template_id": template["template_id"], "months": [0]},
        principal=as_coordinator,
    )

    def issued() -> list[dict]:
        live.ok("feedback", "POST", "/api/surveys/issue-due")
        return live.ok("feedback", "GET", "/api/me/surveys", principal=as_mentee)

    instance = wait_until(issued, timeout_s=60, interval_s=1)[0]

    def notified() -> list[dict]:
        return live.ok(
            "notifications", "GET", f"/api/people/{mentee['id']}/notifications",
            principal=as_mentee,
        )  # fmt: skip

    notification = wait_until(notified, timeout_s=60, interval_s=0.5)[0]
    enrollment_id = next(
        e["id"]
        for e in live.ok("enrollment", "GET", f"/api/people/{mentee['id']}/enrollments")
        if e["cycle_id"] == c1
    )

    program_a = Resource(inst_a, p1)
    paired = _people(*(p["mentor_id"] for p in pairs), *(p["mentee_id"] for p in pairs))
    pair_resource = Resource(inst_a, p1, _people(mentee["id"], mentor["id"]))
    targets = {
        "institution_id": Target(inst_a, Resource(inst_a)),
        "program_id": Target(p1, program_a),
        "cycle_id": Target(c1, program_a),
        "person_id": Target(mentee["id"], Resource(inst_a, people=_people(mentee["id"]))),
        "notification_id": Target(notification["id"], Resource(inst_a, people=_people(mentee["id"]))),
        "enrollment_id": Target(enrollment_id, Resource(inst_a, p1, _people(mentee["id"]))),
        "other_person_id": Target(a.coordinator["id"], Resource(inst_a, p1, _people(mentee["id"]))),
        "pair_id": Target(pair["pair_id"], pair_resource),
        "meeting_id": Target(meeting["meeting_id"], pair_resource),
        "objective_id": Target(objective["objective_id"], pair_resource),
        "meeting_request_id": Target(meeting_request["request_id"], pair_resource),
        "concern_id": Target(
            concern["concern_id"],
            Resource(inst_a, p1, _people(mentee["id"]), parties=_people(mentee["id"], mentor["id"])),
        ),
        "template_id": Target(template["template_id"], Resource(inst_a)),
        # A survey instance concerns everyone it was issued to: every member of the cycle's pairs.
        "instance_id": Target(instance["instance_id"], Resource(inst_a, p1, paired)),
        "request_id": Target(request["request_id"], Resource(inst_a, p2, _people(lab_mentor["id"]))),
    }  # fmt: skip
    other = people[other_pair["mentee_id"]]
    principals = {
        "consortium admin": Principal("admin", (Grant(ADMIN),)),
        "system": Principal("system", (Grant(SYSTEM),)),
        "institution coordinator": as_coordinator,
        "program coordinator": _as(live, coordinators["p1"]),
        "other program's coordinator": _as(live, coordinators["p2"]),
        "mentor of the pair": _as(live, mentor),
        "mentee of the pair": as_mentee,
        "mentee of another pair": _as(live, other),
        "cross-institution mentee": _as(live, cross),
        "requested mentor": _as(live, lab_mentor),
        "other institution's coordinator": _as(live, b.coordinator),
        "other institution's mentor": _as(live, b.mentors[0]),
        "admin scoped to the other institution": Principal("admin-b", (Grant(ADMIN, inst_b),)),
        "system scoped to the other institution": Principal("sys-b", (Grant(SYSTEM, inst_b),)),
        "system scoped to this institution": Principal("sys-a", (Grant(SYSTEM, inst_a),)),
    }
    ids = {
        "institution": inst_a,
        "p1": p1,
        "c2": c2,
        "p2": p2,
        "mentor": mentor["id"],
        "mentee": mentee["id"],
        "mentor_enrollment": next(
            e["id"]
            for e in live.ok("enrollment", "GET", f"/api/cycles/{c1}/enrollments")
            if e["person_id"] == mentor["id"]
        ),
        "program_coordinator": coordinators["p1"]["id"],
        "cross_pair": cross_pair["pair_id"],
        "cross_mentee": cross["id"],
        "email": mentee["email"],
        "meeting_request_time": soon,
        "c1_people": ",".join(people),
    }
    return World(live, targets, principals, ids)


@dataclasses.dataclass
class Case:
    """One request: where to send it and what the policy decides about it."""

    service: str
    method: str
    path: str  # the template from the OpenAPI
    permission: str
    rows: str | None
    url: str = ""
    resource: Resource | None = None
    query: dict[str, str] = dataclasses.field(default_factory=dict)
    body: Callable[[], Any] | None = None
    files: Callable[[], Any] | None = None
    row: Target | None = None  # a row whose presence in a list answer the policy decides


def _cases(world: World) -> list[Case]:
    cases = []
    for service in config.SERVICES:
        spec = world.live.ok(service, "GET", "/api/openapi.json")
        for path, operations in spec["paths"].items():
            for method in METHODS:
                if method not in operations:
                    continue
                op = operations[method]
                assert "x-permission" in op, f"{service} {method.upper()} {path}: no policy entry"
                assert op["x-permission"] in POLICY, f"{path}: unknown {op['x-permission']}"
                case = Case(
                    service, method.upper(), path, op["x-permission"], op.get("x-permission-rows")
                )
                _fill(world, case)
                cases.append(case)
    order = {key: i for i, key in enumerate(LAST)}
    return sorted(cases, key=lambda c: (c.method != "GET", order.get((c.method, c.path), -1)))


def _fill(world: World, case: Case) -> None:
    """The URL, query and body of a case, and the resource the policy is asked about."""
    t = world.targets
    params = {name: target.id for name, target in t.items()}
    specific = [name for name in t if "{" + name + "}" in case.path]
    # The most specific parameter names the resource (a meeting, not the pair it belongs to).
    if specific:
        case.resource = t[_most_specific(specific)].resource
    special = SPECIAL.get((case.method, case.path))
    if special is not None:
        special(world, case, params)
    case.url = case.path.format(**params)
    if case.resource is None:
        raise AssertionError(f"{case.method} {case.path}: the matrix does not know its resource")


PRECEDENCE = (
    "concern_id", "meeting_id", "meeting_request_id", "objective_id", "notification_id", "instance_id", "request_id",
    "template_id", "other_person_id", "enrollment_id", "pair_id", "person_id", "cycle_id",
    "program_id", "institution_id",
)  # fmt: skip


def _most_specific(names: list[str]) -> str:
    return min(names, key=PRECEDENCE.index)


def _unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}".upper()


def _body(value: Any) -> Callable[[], Any]:
    return lambda: value


def _special(method: str, path: str):
    def register(fn):
        SPECIAL[(method, path)] = fn
        return fn

    return register


SPECIAL: dict[tuple[str, str], Callable[[World, Case, dict], None]] = {}


# Request bodies and queries, and the resources of routes whose path does not name one.


@_special("POST", "/api/institutions")
def _(w, c, p):
    c.resource = Resource()
    c.body = lambda: {
        "name": "Matrix " + _unique(""),
        "short_code": _unique("M"),
        "time_zone": "UTC",
    }


@_special("GET", "/api/institutions")
def _(w, c, p):
    c.resource, c.row = Resource(), w.targets["institution_id"]


@_special("GET", "/api/institutions/{institution_id}/programs")
def _(w, c, p):
    c.row = w.targets["program_id"]


@_special("POST", "/api/institutions/{institution_id}/programs")
def _(w, c, p):
    c.body = _body(
        {"name": "New program", "program_type": "resident_peer_mentoring", "guidelines": "g"}
    )


@_special("PUT", "/api/programs/{program_id}/guidelines")
def _(w, c, p):
    c.body = _body({"guidelines": "Meet monthly; keep confidences."})


@_special("POST", "/api/programs/{program_id}/cycles")
def _(w, c, p):
    c.body = lambda: {"name": _unique("C")}


@_special("POST", "/api/people")
def _(w, c, p):
    inst = w.ids["institution"]
    c.resource = Resource(inst)
    c.body = lambda: {
        "institution_id": inst, "name": "New Person", "email": f"{_unique('n').lower()}@m.example",
        "training_level": "PGY1",
    }  # fmt: skip


@_special("POST", "/api/people/{person_id}/erasure")
def _(w, c, p):
    # A person registered for this case alone, so no other case meets an erased person.
    c.resource = Resource()
    p["person_id"] = _register(w.live, w.ids["institution"], "To Be Erased")["id"]


@_special("GET", "/api/people")
def _(w, c, p):
    c.resource, c.query = Resource(w.ids["institution"]), {"institution_id": w.ids["institution"]}


@_special("GET", "/api/people/by-email")
def _(w, c, p):
    c.resource, c.query = Resource(), {"email": w.ids["email"]}


@_special("GET", "/api/people/{person_id}/card")
def _(w, c, p):
    # Whoever takes part in a cycle with the person counts among the people it concerns.
    shares = _people(*w.ids["c1_people"].split(","))
    c.resource = Resource(w.ids["institution"], people=shares | _people(w.ids["mentee"]))


@_special("PATCH", "/api/people/{person_id}")
def _(w, c, p):
    c.body = _body({"pronouns": "she/her"})


def _role(w: World, c: Case, p: dict) -> None:
    inst, program = w.ids["institution"], w.ids["p1"]
    c.resource = Resource(inst, program, parties=_people(w.targets["person_id"].id))
    c.body = _body({"role": COORDINATOR, "institution_id": inst, "program_id": program})


SPECIAL[("POST", "/api/people/{person_id}/roles")] = _role
SPECIAL[("POST", "/api/people/{person_id}/roles/revoke")] = _role


@_special("GET", "/api/staff")
def _(w, c, p):
    inst = w.ids["institution"]
    c.resource, c.query = Resource(inst), {"institution_id": inst}
    c.row = Target(w.ids["program_coordinator"], Resource(inst, w.ids["p1"]))


@_special("POST", "/api/cycles/{cycle_id}/enrollments")
def _(w, c, p):
    mentee = w.ids["mentee"]
    c.resource = Resource(w.ids["institution"], w.ids["p1"], _people(mentee))
    c.body = _body({"person_id": mentee, "role": "mentee", "interests": ["research"]})


@_special("GET", "/api/cycles/{cycle_id}/pairs")
def _(w, c, p):
    c.row = w.targets["pair_id"]


@_special("GET", "/api/people/{person_id}/enrollments")
def _(w, c, p):
    c.row = w.targets["enrollment_id"]


@_special("PATCH", "/api/enrollments/{enrollment_id}")
def _(w, c, p):
    c.body = _body({"goals": "Publish one paper."})


@_special("PUT", "/api/enrollments/{enrollment_id}/ranking")
def _(w, c, p):
    c.body = _body({"mentor_enrollment_ids": [w.ids["mentor_enrollment"]]})


@_special("PUT", "/api/enrollments/{enrollment_id}/mentee-ranking")
def _(w, c, p):
    c.body = _body({"mentee_enrollment_ids": []})  # the target is a mentee's: refused as 422


@_special("POST", "/api/enrollments/{enrollment_id}/conflicts")
def _(w, c, p):
    c.body = _body({"other_person_id": w.targets["other_person_id"].id, "kind": "supervisor"})


@_special("POST", "/api/enrollments/{enrollment_id}/withdraw")
def _(w, c, p):
    c.body = _body({"reason": "Leave of absence"})


@_special("POST", "/api/cycles/{cycle_id}/roster")
def _(w, c, p):
    csv = "name,email,role,training_level\nRoster Person,roster.{}@m.example,mentee,PGY1\n"
    c.files = lambda: {"file": ("roster.csv", csv.format(_unique("r").lower()), "text/csv")}


SPECIAL[("POST", "/api/cycles/{cycle_id}/roster/preview")] = SPECIAL[
    ("POST", "/api/cycles/{cycle_id}/roster")
]


@_special("POST", "/api/cycles/{cycle_id}/invitations")
def _(w, c, p):
    c.body = _body({"enrollment_ids": [w.ids["mentor_enrollment"]], "mode": "manual"})


@_special("POST", "/api/cycles/{cycle_id}/roster/apply")
def _(w, c, p):
    # No such preview: 404 to whoever may manage the cycle, refused to everyone else.
    c.body = _body({"file_sha256": "0" * 64, "plan": "0" * 64})


@_special("POST", "/api/cycles/{cycle_id}/runs")
def _(w, c, p):
    c.body = _body({"algorithm": "stable"})


def _level_rules(w, c, p):
    c.body = _body({"mentee_levels": ["PGY1"], "min_level_gap": 1})


SPECIAL[("PUT", "/api/cycles/{cycle_id}/level-rules")] = _level_rules
SPECIAL[("POST", "/api/cycles/{cycle_id}/level-rules/preview")] = _level_rules


@_special("POST", "/api/cycles/{cycle_id}/proposal/edits")
def _(w, c, p):
    c.body = _body({"action": "pin", "person_id": w.ids["mentee"], "reason": "Keep them"})


@_special("POST", "/api/cycles/{cycle_id}/proposal/publish")
def _(w, c, p):
    c.body = _body({})


def _reason(w, c, p):
    c.body = _body({"reason": "Not working out"})


SPECIAL[("POST", "/api/pairs/{pair_id}/end")] = _reason
SPECIAL[("POST", "/api/pairs/{pair_id}/rematch-request")] = _reason


def _second_cycle(w: World, c: Case, p: dict) -> None:
    p["cycle_id"] = w.ids["c2"]
    c.resource = Resource(w.ids["institution"], w.ids["p2"])


@_special("POST", "/api/cycles/{cycle_id}/choice-rounds")
def _(w, c, p):
    _second_cycle(w, c, p)
    c.body = _body({"response_hours": 48})


SPECIAL[("POST", "/api/cycles/{cycle_id}/choice-rounds/expire")] = _second_cycle


@_special("GET", "/api/cycles/{cycle_id}/requests")
def _(w, c, p):
    _second_cycle(w, c, p)
    c.row = w.targets["request_id"]


@_special("POST", "/api/requests/{request_id}/decline")
def _(w, c, p):
    c.body = _body({"reason": "Full this year"})


@_special("POST", "/api/pairs/{pair_id}/meetings")
def _(w, c, p):
    c.body = _body({"date": dt.date.today().isoformat(), "duration_minutes": 30, "mode": "virtual"})


@_special("POST", "/api/pairs/{pair_id}/objectives")
def _(w, c, p):
    c.body = _body({"area": "career_planning", "title": "Choose a fellowship"})


@_special("POST", "/api/objectives/{objective_id}/status")
def _(w, c, p):
    c.body = _body({"status": "in_progress"})


@_special("POST", "/api/objectives/{objective_id}")
def _(w, c, p):
    c.body = _body({"area": "research", "title": "Submit one abstract"})


@_special("POST", "/api/objectives/{objective_id}/steps")
def _(w, c, p):
    c.body = _body({"text": "Draft the abstract", "due_date": "2030-01-31"})


@_special("POST", "/api/objectives/{objective_id}/comments")
def _(w, c, p):
    c.body = _body({"text": "Ask the lab for data."})


@_special("POST", "/api/objectives/{objective_id}/move")
def _(w, c, p):
    c.body = _body({"offset": 1})


@_special("POST", "/api/pairs/{pair_id}/concerns")
def _(w, c, p):
    c.body = _body({"kind": "other", "text": "A second concern."})


@_special("GET", "/api/concerns")
def _(w, c, p):
    c.resource, c.row = Resource(), w.targets["concern_id"]


@_special("POST", "/api/concerns/{concern_id}/actions")
def _(w, c, p):
    c.body = _body({"action": "note", "note": "Called both members."})


@_special("POST", "/api/concerns/{concern_id}/resolve")
def _(w, c, p):
    c.body = _body({"note": "Talked it through."})


def _consortium(w: World, c: Case, p: dict) -> None:
    c.resource = Resource()


for _route in (
    ("POST", "/api/concerns/escalate-due"),
    ("POST", "/api/surveys/issue-due"),
    ("GET", "/api/me/pairs"),
    ("GET", "/api/me/surveys"),
    ("GET", "/api/survey-templates/builtins"),
    ("GET", "/api/outcomes"),
    ("GET", "/api/stats"),
    ("GET", "/api/local-mail"),
    ("GET", "/api/operations"),
    ("POST", "/api/operations/redrive"),
    ("POST", "/api/operations/retry"),
):
    SPECIAL[_route] = _consortium


def _audit(w: World, c: Case, p: dict) -> None:
    inst = w.ids["institution"]
    c.resource, c.query = Resource(inst), {"institution_id": inst}


SPECIAL[("GET", "/api/audit")] = _audit
SPECIAL[("GET", "/api/audit/verify")] = _audit


def _trail(w: World, c: Case, p: dict) -> None:
    c.resource = Resource(w.ids["institution"], w.ids["p1"])
    c.query = {"program_id": w.ids["p1"]}


SPECIAL[("GET", "/api/trail")] = _trail
SPECIAL[("GET", "/api/trail.csv")] = _trail


@_special("POST", "/api/access-events")
def _(w, c, p):
    c.resource = Resource()
    c.body = _body({"kind": "sign_in_failed", "email": "nobody@matrix.example"})


@_special("POST", "/api/institutions/{institution_id}/survey-templates")
def _(w, c, p):
    c.body = _body({"name": "Matrix", "items": [{"item_id": "a", "kind": "likert", "prompt": "?"}]})


@_special("POST", "/api/institutions/{institution_id}/survey-templates/builtins")
def _(w, c, p):
    c.body = _body({})


@_special("POST", "/api/cycles/{cycle_id}/survey-schedules")
def _(w, c, p):
    c.body = _body({"template_id": w.targets["template_id"].id, "months": [1]})


@_special("POST", "/api/cycles/{cycle_id}/surveys/issue-now")
def _(w, c, p):
    c.body = _body({"template_id": w.targets["template_id"].id})


@_special("POST", "/api/survey-instances/{instance_id}/responses")
def _(w, c, p):
    c.body = _body({"answers": {"ok": 4}})


@_special("POST", "/api/pairs/{pair_id}/meeting-requests")
def _(w, c, p):
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=4)).isoformat()
    c.body = _body({"options": [soon], "mode": "in_person", "place": "Library"})


def _starts_at(w: World, c: Case, p: dict) -> None:
    c.body = _body({"starts_at": w.ids["meeting_request_time"]})


SPECIAL[("POST", "/api/meeting-requests/{meeting_request_id}/accept")] = _starts_at
SPECIAL[("POST", "/api/meeting-requests/{meeting_request_id}/reschedule")] = _starts_at


@_special("PUT", "/api/people/{person_id}/notification-preferences")
def _(w, c, p):
    c.body = _body({"preferences": {"enrolled": "in_app"}})


@_special("POST", "/api/people/{person_id}/account-links")
def _(w, c, p):
    c.body = _body({"kind": "reset", "url": "http://127.0.0.1/reset/x", "email": w.ids["email"]})


def _refused(case: Case, status: int) -> bool:
    return status == 403 or (status == 404 and POLICY[case.permission].conceal)


def test_every_route_answers_every_principal_as_the_policy_says(world: World, capsys):
    cases = _cases(world)
    routes = {(c.service, c.method, c.path) for c in cases}
    unexpected: list[str] = []
    allows = refusals = rows = checked = 0
    for case in cases:
        for name, who in world.principals.items():
            expected = permits(who, case.permission, case.resource)
            response = world.live.api(
                case.service, case.method, case.url, principal=who,
                json=case.body() if case.body else None,
                files=case.files() if case.files else None,
                params=case.query or None,
            )  # fmt: skip
            checked += 1
            label = f"{case.service} {case.method} {case.path} as {name}"
            if response.status_code in (401,) or response.status_code >= 500:
                unexpected.append(f"{label}: {response.status_code} {response.text[:200]}")
                continue
            refused = _refused(case, response.status_code)
            if refused and expected:
                refusals += 1
                unexpected.append(f"{label}: refused ({response.status_code}) but allowed")
            elif not refused and not expected:
                allows += 1
                unexpected.append(f"{label}: {response.status_code} but refused by policy")
            elif case.row is not None and case.rows and not refused and case.method == "GET":
                rows += 1
                shown = case.row.id in json.dumps(response.json())
                if shown != permits(who, case.rows, case.row.resource):
                    allows += shown
                    refusals += not shown
                    unexpected.append(f"{label}: row {'shown' if shown else 'hidden'} wrongly")
    with capsys.disabled():
        print(
            f"\naccess matrix: {checked} (route, principal) cases over {len(routes)} routes and "
            f"{len(world.principals)} principals ({rows} list answers checked row by row): "
            f"{allows} unexpected allows, {refusals} unexpected refusals"
        )
    assert not unexpected, "\n".join(unexpected)


def test_a_cross_institution_pair_is_seen_by_its_members_and_its_program_only(world: World):
    live, cross_pair = world.live, world.ids["cross_pair"]
    path = f"/api/pairs/{cross_pair}/meetings"
    p = world.principals
    for name in ("cross-institution mentee", "program coordinator", "institution coordinator"):
        assert live.api("feedback", "GET", path, principal=p[name]).status_code == 200, name
    for name in (
        "other institution's coordinator",
        "other program's coordinator",
        "mentee of the pair",
        "admin scoped to the other institution",
    ):
        assert live.api("feedback", "GET", path, principal=p[name]).status_code in (403, 404), name
