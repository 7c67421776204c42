"""The running suite's logs: JSON lines that say which request, correlation, institution and
actor each request line belongs to, and never what someone wrote in confidence."""

from __future__ import annotations

import json

import pytest
from live import publish_pairs, seed_program

from services.eventkit.auth import Grant, Principal
from support import wait_until

pytestmark = [pytest.mark.kafka]


def _lines(live, name: str) -> list[dict]:
    text = (live.workdir / "var" / "log" / f"{name}.log").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _requests(live, name: str) -> list[dict]:
    return [line for line in _lines(live, name) if line["logger"] == "tandem.request"]


def test_a_confidential_concern_appears_in_no_log_and_request_lines_say_who(live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1)
    (pair,) = publish_pairs(live_suite, program)
    mentee_id = pair["mentee_id"]
    institution_id = program.institution["id"]
    mentee = Principal(mentee_id, (Grant("mentee", institution_id),), "Mentee")
    secret = "Confidential-7f3a: my mentor keeps asking about my divorce and my therapy."
    meetings = f"/api/pairs/{pair['pair_id']}/meetings"
    wait_until(lambda: live_suite.api("feedback", "GET", meetings, principal=mentee).ok, 60)
    raised = live_suite.ok(
        "feedback",
        "POST",
        f"/api/pairs/{pair['pair_id']}/concerns",
        {"kind": "other", "text": secret},
        principal=mentee,
    )
    web = live_suite.browser_session(program.coordinator["email"])
    opened = web.get(f"/coordinator/concerns/{raised['concern_id']}")
    assert opened.status_code == 200 and secret in opened.text
    request_id = opened.headers["X-Request-ID"]

    coordinator = program.coordinator["id"]
    path = f"/api/people/{coordinator}/notifications"

    staff = Principal(coordinator, (Grant("coordinator", institution_id),), "Coordinator")

    def noted() -> bool:  # the notifications worker has told the coordinator by now
        inbox = live_suite.api("notifications", "GET", path, principal=staff)
        return inbox.ok and "concern" in inbox.text.lower()

    wait_until(noted, timeout_s=30)

    # Every line of every process's log is JSON (gunicorn's own lines included) ...
    log_dir = live_suite.workdir / "var" / "log"
    names = sorted(p.stem for p in log_dir.glob("*.log") if p.stem != "broker")
    assert len(names) == 9
    for name in names:
        assert _lines(live_suite, name), name
    # ... and none holds the concern's text, in any process (nor the supervisor's).
    mentee_person = next(p for p in program.mentees if p["id"] == mentee_id)
    for path in [*log_dir.glob("*.log"), live_suite.workdir / "supervisor.log"]:
        text = path.read_text()
        for personal in (secret, "divorce", mentee_person["email"], mentee_person["name"]):
            assert personal not in text, f"{path.name} holds {personal!r}"

    (raised_line,) = [
        line for line in _requests(live_suite, "feedback-api")
        if line["route"] == "/api/pairs/<pair_id>/concerns" and line["actor"] == mentee_id
    ]  # fmt: skip
    assert raised_line["method"] == "POST" and raised_line["status"] == 201
    assert raised_line["institution"] == institution_id
    assert raised_line["request_id"] and raised_line["process"] == "feedback-api"
    (page,) = [line for line in _requests(live_suite, "web") if line["request_id"] == request_id]
    assert page["route"] == "/coordinator/concerns/<concern_id>"
    assert page["actor"] == program.coordinator["id"] and page["status"] == 200
    # The services the page called log the web's request id, and take it as correlation id.
    behind = [line for line in _requests(live_suite, "feedback-api") if line["request_id"] == request_id]  # fmt: skip
    assert behind and all(line["correlation_id"] == request_id for line in behind)
    assert all(line["actor"] == program.coordinator["id"] for line in behind)


def test_start_up_says_what_it_started_without_migration_chatter(live_suite):
    text = (live_suite.workdir / "supervisor.log").read_text()
    start = text.split("Tandem is running")[0]
    assert "alembic" not in start and "Running upgrade" not in start
    assert len(start.strip().splitlines()) <= 15, start
    for name in ("enrollment", "pairing", "feedback", "notifications"):
        assert live_suite.service_url(name) in start
        port = live_suite.env[f"{name.upper()}_WORKER_HEALTH_PORT"]
        assert f"{name} worker" in start and f"127.0.0.1:{port}" in start
    assert f"web                    {live_suite.url}" in start
