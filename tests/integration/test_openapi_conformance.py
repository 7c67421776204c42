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

SERVICES = ("enrollment", "pairing", "feedback", "notifications")
INSTITUTION = "inst-1"
PERSON = "person-1"


def callers(institution_id: str, person_id: str) -> tuple[Principal, ...]:
    """One caller of each role; the mentee is the seeded person (and a mentor elsewhere)."""
    return (
        Principal("admin-1", (Grant(ADMIN),)),
        Principal("coordinator-1", (Grant(COORDINATOR, institution_id),)),
        Principal("mentor-1", (Grant(MENTOR, institution_id),)),
        Principal(person_id, (Grant(MENTEE, institution_id), Grant(MENTOR, "inst-2"))),
        Principal("system", (Grant(SYSTEM),)),
    )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Values the issue saw answered with 500s, planted in a third of the cases: NUL (PostgreSQL cannot
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
def test_every_operation_conforms_to_the_openapi(service_app, capsys):
    signer = TokenSigner(config.token_key(), ttl_seconds=3600)
    known = SEEDS.get(service_app.name, _no_seed)(service_app, signer)
    people = callers(known["institution_id"], known["person_id"])
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


def _no_seed(app, signer: TokenSigner) -> dict[str, str]:
    return {"institution_id": INSTITUTION, "person_id": PERSON}


def _seed_enrollment(app, signer: TokenSigner) -> dict[str, str]:
    client = app.test_client()
    admin = {"Authorization": f"Bearer {signer.mint(Principal('admin-1', (Grant(ADMIN),)))}"}

    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body, headers=admin)
        assert response.status_code in (200, 201), response.get_json()
        return response.get_json()

    inst = post("/api/institutions", {"name": "N", "short_code": "N", "time_zone": "UTC"})["id"]
    program = post(
        f"/api/institutions/{inst}/programs", {"name": "P", "program_type": "big_sibling"}
    )["id"]
    cycle = post(f"/api/programs/{program}/cycles", {"name": "2026"})["id"]
    person = post(
        "/api/people",
        {
            "institution_id": inst,
            "name": "Ada",
            "email": "ada@example.org",
            "training_level": "PGY1",
        },
    )["id"]
    enrollment = post(f"/api/cycles/{cycle}/enrollments", {"person_id": person, "role": "mentee"})
    return {
        "institution_id": inst,
        "program_id": program,
        "cycle_id": cycle,
        "person_id": person,
        "enrollment_id": enrollment["id"],
    }


def _seed_notifications(app, signer: TokenSigner) -> dict[str, str]:
    """A queued password link, then one kept in the local outbox: rows with timestamps."""
    from services.notifications import delivery

    system = {"Authorization": f"Bearer {signer.mint(system_principal())}"}
    for kind in ("set", "reset"):
        response = app.test_client().post(
            f"/api/people/{PERSON}/account-links",
            json={
                "kind": kind,
                "url": "http://127.0.0.1/set",
                "email": "ada@example.org",
                "name": "Ada",
                "institution_id": INSTITUTION,
            },
            headers=system,
        )
        assert response.status_code == 202, response.get_json()
        if kind == "set":
            delivery.Sender(app.extensions["tandem"]).run_once()
    return _no_seed(app, signer)


SEEDS = {"enrollment": _seed_enrollment, "notifications": _seed_notifications}
