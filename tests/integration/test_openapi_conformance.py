"""Every service against its own OpenAPI, with schemathesis: generated requests (valid and
invalid) from callers of every role must never get a 5xx, and every response must match what
the OpenAPI documents (status code, media type, body schema).

The apps run in-process over WSGI on fresh databases (SQLite, and PostgreSQL where the tests have
one). `CONFORMANCE_MAX_EXAMPLES` (default
12) bounds the requests per operation and generation mode; generation is derandomized so runs
repeat, and failures are not shrunk so a run stays within a couple of minutes.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.eventkit import config
from services.eventkit.auth import (
    ADMIN,
    COORDINATOR,
    MENTEE,
    MENTOR,
    SYSTEM,
    Grant,
    Principal,
    TokenSigner,
    system_principal,
)
from services.eventkit.migrations import upgrade
from services.pairing.service import SERVICE as PAIRING
from support import deliver

SERVICES = ("enrollment", "pairing", "feedback", "notifications")


def callers(known: dict[str, str]) -> tuple[Principal, ...]:
    """One caller of each role, and one with none: the mentor and mentee are seeded people (the
    mentee is a mentor elsewhere too)."""
    inst = known["institution_id"]
    return (
        Principal("admin-1", (Grant(ADMIN),)),
        Principal("coordinator-1", (Grant(COORDINATOR, inst),)),
        Principal(known["mentor_id"], (Grant(MENTOR, inst),)),
        Principal(known["mentee_id"], (Grant(MENTEE, inst), Grant(MENTOR, "elsewhere"))),
        Principal("system", (Grant(SYSTEM),)),
        Principal("nobody", ()),  # signed in, but holding no role anywhere
    )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Values once answered with 500s, planted in three cases of seven: NUL (PostgreSQL cannot
# store it), a lone surrogate (UTF-8 cannot encode it), a number beyond 64 bits.
HOSTILE = (None, None, None, None, "a\x00b", "\ud800", 2**63)
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@dataclasses.dataclass
class Tally:
    operations: int = 0
    cases: int = 0
    statuses: collections.Counter = dataclasses.field(default_factory=collections.Counter)
    failures: list[str] = dataclasses.field(default_factory=list)


def max_examples() -> int:
    return config.env_int("CONFORMANCE_MAX_EXAMPLES", 12)


@pytest.fixture
def service_app(request, database_url):
    """The service named by the test's parameter, on a fresh SQLite and PostgreSQL database."""
    name = request.param
    upgrade(importlib.import_module(f"services.{name}.service").SERVICE.migrations, database_url)
    app = importlib.import_module(f"services.{name}.app").create_app(database_url)
    yield app
    app.extensions["tandem"].engine.dispose()


@pytest.mark.parametrize("service_app", SERVICES, indirect=True)
def test_every_operation_conforms_to_the_openapi(service_app, capsys, tmp_path):
    signer = TokenSigner(config.token_key(), config.token_ttl_seconds())
    known = SEEDS[service_app.name](service_app, signer, tmp_path)
    people = callers(known)
    tokens = [f"Bearer {signer.mint(caller)}" for caller in people]
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", service_app)
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations += 1
        for mode in MODES:
            _exercise(operation, mode, tokens, known, tally)
    with capsys.disabled():  # the counts show in every run, not only failing ones
        print(
            f"\nschemathesis {service_app.name} on {_database(service_app)}: "
            f"{tally.operations} operations, "
            f"{tally.cases} test cases, {len(tally.failures)} failures; "
            f"statuses {dict(sorted(tally.statuses.items()))}"
        )
    assert not tally.failures, "\n\n".join(tally.failures)


def _plant(case, value: str | int) -> None:
    """Put `value` in place of the first text or number of the body, else of the query."""
    for container in (case.body, case.query):
        if not isinstance(container, dict):
            continue
        for key, current in container.items():
            if isinstance(current, (str, int)) and not isinstance(current, bool):
                if value == "\ud800" and not (container is case.body and _is_json(case)):
                    value = "a\x00b"  # only a JSON escape can carry a lone surrogate
                container[key] = value
                return


def _is_json(case) -> bool:
    return "json" in (case.media_type or "")


def _database(app) -> str:
    return app.extensions["tandem"].engine.dialect.name


def _exercise(operation, mode, tokens: list[str], known: dict[str, str], tally: Tally) -> None:
    @settings(
        max_examples=max_examples(),
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        token=st.sampled_from(tokens),
        use_known=st.booleans(),
        hostile=st.sampled_from(HOSTILE),
    )
    def run(case, token, use_known, hostile):
        tally.cases += 1
        if hostile is not None:
            _plant(case, hostile)
        if use_known and case.path_parameters:
            # Random ids only ever reach 404s: half the cases name things that exist.
            case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
        # On the case itself: a header passed to the call goes missing from negative cases.
        case.headers = {**(case.headers or {}), "Authorization": token}
        response = case.call_and_validate(checks=CHECKS)
        tally.statuses[response.status_code] += 1

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        pass  # nothing invalid can be generated for an operation without inputs
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
        tally.failures.append(f"{operation.label} ({mode.value}): {exc}")


# --- what each service holds before the run, and the ids that name it ---------------------------


def _bearer(signer: TokenSigner, principal: Principal) -> dict[str, str]:
    return {"Authorization": f"Bearer {signer.mint(principal)}"}


def _post(app, headers: dict[str, str], path: str, body: dict | None = None) -> dict:
    response = app.test_client().post(path, json=body, headers=headers)
    assert response.status_code in (200, 201, 202), response.get_json()
    return response.get_json()


def _upstream(name: str, tmp_path):
    """Another service on SQLite, to produce the events the service under test consumes."""
    url = f"sqlite:///{tmp_path / ('upstream-' + name)}.db"
    upgrade(importlib.import_module(f"services.{name}.service").SERVICE.migrations, url)
    return importlib.import_module(f"services.{name}.app").create_app(url)


def _events(app) -> list:
    rt = app.extensions["tandem"]
    with rt.reading() as conn:
        return [e for _, e in rt.store.read_all(conn)]


def _seed_enrollment(app, signer: TokenSigner, tmp_path) -> dict[str, str]:
    """An institution, program and open cycle with two mentors and three mentees."""
    admin = _bearer(signer, Principal("admin-1", (Grant(ADMIN),)))
    inst = _post(
        app, admin, "/api/institutions", {"name": "N", "short_code": "N", "time_zone": "UTC"}
    )
    program = _post(
        app,
        admin,
        f"/api/institutions/{inst['id']}/programs",
        {"name": "P", "program_type": "resident_peer_mentoring"},
    )
    cycle = _post(app, admin, f"/api/programs/{program['id']}/cycles", {"name": "2026"})
    known = {"institution_id": inst["id"], "program_id": program["id"], "cycle_id": cycle["id"]}
    for role, level, count in (("mentor", "PGY5", 2), ("mentee", "PGY1", 3)):
        for n in range(count):
            person = _post(
                app,
                admin,
                "/api/people",
                {
                    "institution_id": inst["id"],
                    "name": f"{role} {n}",
                    "email": f"{role}{n}@example.org",
                    "training_level": level,
                },
            )
            body = {"person_id": person["id"], "role": role}
            if role == "mentor":
                body["capacity"] = 2
            enrollment = _post(app, admin, f"/api/cycles/{cycle['id']}/enrollments", body)
            known.setdefault(f"{role}_id", person["id"])
            known.setdefault(f"{role}_enrollment_id", enrollment["id"])
    known["person_id"] = known["mentee_id"]
    known["enrollment_id"] = known["mentee_enrollment_id"]
    return known


def _seed_pairing(app, signer: TokenSigner, tmp_path) -> dict[str, str]:
    """The enrollment world, paired by a stable run and published."""
    enrollment = _upstream("enrollment", tmp_path)
    known = _seed_enrollment(enrollment, signer, tmp_path)
    deliver(PAIRING, app.extensions["tandem"], _events(enrollment))
    coordinator = _bearer(signer, Principal("c-1", (Grant(COORDINATOR, known["institution_id"]),)))
    cycle = known["cycle_id"]
    _post(app, coordinator, f"/api/cycles/{cycle}/runs", {"algorithm": "stable"})
    pairs = _post(app, coordinator, f"/api/cycles/{cycle}/proposal/publish")
    known["pair_id"] = pairs[0]["pair_id"]
    app.extensions["tandem.upstream"] = _events(enrollment)
    return known


def _seed_consumer(app, signer: TokenSigner, tmp_path) -> dict[str, str]:
    """Feedback or notifications, having heard enrollment's and pairing's events."""
    pairing = _upstream("pairing", tmp_path)
    known = _seed_pairing(pairing, signer, tmp_path)
    service = importlib.import_module(f"services.{app.name}.service").SERVICE
    deliver(service, app.extensions["tandem"], pairing.extensions.pop("tandem.upstream"))
    deliver(service, app.extensions["tandem"], _events(pairing), topic="tandem.pairing.v1")
    return known


def _seed_notifications(app, signer: TokenSigner, tmp_path) -> dict[str, str]:
    """The paired world's notices, a password link queued and the rest kept in the local
    outbox: rows with timestamps."""
    from services.notifications import delivery

    known = _seed_consumer(app, signer, tmp_path)
    _post(
        app,
        _bearer(signer, system_principal()),
        f"/api/people/{known['person_id']}/account-links",
        {"kind": "set", "url": "http://127.0.0.1/set", "email": "mentee0@example.org"},
    )
    delivery.Sender(app.extensions["tandem"]).run_once()
    _post(
        app,
        _bearer(signer, system_principal()),
        f"/api/people/{known['person_id']}/account-links",
        {"kind": "reset", "url": "http://127.0.0.1/set", "email": "mentee0@example.org"},
    )
    return known


SEEDS = {
    "enrollment": _seed_enrollment,
    "pairing": _seed_pairing,
    "feedback": _seed_consumer,
    "notifications": _seed_notifications,
}
