"""Whatever a client sends, the services answer 4xx, never 5xx, on SQLite and PostgreSQL: bodies
are capped before parsing, deep JSON, lone surrogates, NUL and huge numbers are refused naming
the field, and the OpenAPI documents the errors, media types and timestamps as they are."""

from __future__ import annotations

import importlib
import io
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from services.eventkit import inputs
from services.eventkit.auth import ADMIN, MENTEE, SYSTEM, Grant
from services.eventkit.broker import free_port
from services.eventkit.migrations import upgrade
from support import auth_headers, wait_until

SERVICES = ("enrollment", "pairing", "feedback", "notifications")
JSON = {"Content-Type": "application/json"}
INSTITUTION = {"name": "Northfield", "short_code": "NUH", "time_zone": "UTC"}


def build(name: str, database_url: str):
    upgrade(importlib.import_module(f"services.{name}.service").SERVICE.migrations, database_url)
    return importlib.import_module(f"services.{name}.app").create_app(database_url)


def post_raw(client, headers, body: bytes | str, path: str = "/api/institutions"):
    return client.post(path, data=body, headers={**headers, **JSON})


def field_errors(response) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)[:500]
    return response.json["errors"]


# --- bodies ---------------------------------------------------------------------------------------


def test_a_body_over_the_cap_is_refused_from_its_content_length(client, admin, stored_events):
    body = b'{"name": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    response = post_raw(client, admin, body)
    assert response.status_code == 413
    assert "1,048,576 bytes" in response.json["message"]
    assert stored_events() == 0


def test_a_streamed_body_is_cut_off_at_the_cap(client, admin):
    """Without a Content-Length (chunked), reading stops at the cap: not valid JSON yet, yet the
    answer is 413, so nothing was parsed."""
    response = client.post(
        "/api/institutions",
        input_stream=io.BytesIO(b"[" + b"1," * (1024 * 1024)),
        headers={**admin, **JSON},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413


def test_the_cap_is_set_by_environment(client, admin, monkeypatch):
    monkeypatch.setenv("TANDEM_MAX_BODY_BYTES", "100")
    response = post_raw(client, admin, json.dumps({**INSTITUTION, "name": "x" * 200}))
    assert response.status_code == 413
    assert "100 bytes" in response.json["message"]
    assert post_raw(client, admin, json.dumps(INSTITUTION)).status_code == 201


def test_deeply_nested_json_is_a_400_not_a_recursion_error(client, admin):
    response = post_raw(client, admin, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert "nested more than 64 levels" in response.json["message"]


def test_brackets_inside_strings_do_not_count_as_depth():
    assert not inputs.json_too_deep(b'{"name": "' + b"[" * 500 + b'"}', 64)
    assert inputs.json_too_deep(b'{"a": ' * 65 + b"1" + b"}" * 65, 64)
    assert not inputs.json_too_deep(b'{"a": ' * 64 + b"1" + b"}" * 64, 64)


@pytest.mark.parametrize(
    "text", ["\ud800", "a\x00b", "\udfff tail"], ids=["surrogate", "nul", "low-surrogate"]
)
def test_unstorable_text_is_refused_naming_the_field(client, admin, stored_events, text):
    body = json.dumps({**INSTITUTION, "name": text})  # escaped: \\ud800 and \\u0000
    errors = field_errors(post_raw(client, admin, body))
    assert errors == {"json": {"name": [inputs.TEXT_REFUSED]}}
    assert stored_events() == 0


def test_nested_fields_and_keys_are_named_like_marshmallow_does(client, admin):
    body = json.dumps({"a": [{"ok": "fine"}, {"bad": "\x00"}], "k\x00": 1, "n": 2**64})
    errors = field_errors(post_raw(client, admin, body))["json"]
    assert errors == {
        "a": {"1": {"bad": [inputs.TEXT_REFUSED]}},
        "k\\x00": [inputs.TEXT_REFUSED],
        "n": [inputs.NUMBER_REFUSED],
    }


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "1e999", "9" * 5000, "\x00"])
def test_numbers_json_cannot_carry_are_refused(client, admin, literal):
    response = post_raw(client, admin, '{"name": ' + literal + "}")
    if literal == "1e999":  # valid JSON, but infinite once read
        assert field_errors(response) == {"json": {"name": [inputs.NUMBER_REFUSED]}}
    else:
        assert response.status_code == 400
        assert response.json["message"] == "The request body is not valid JSON."


def test_authorization_is_decided_before_the_body_is_read(client):
    mentee = auth_headers(Grant(MENTEE, "inst-1"), user="p-1")
    assert post_raw(client, mentee, '{"name": "a\\u0000b"}').status_code == 403
    assert post_raw(client, mentee, "[" * 100_000).status_code == 403


def test_nul_in_a_search_is_refused_on_every_database(client, admin):
    inst = client.post("/api/institutions", json=INSTITUTION, headers=admin).json["id"]
    response = client.get(f"/api/people?institution_id={inst}&q=a%00b", headers=admin)
    assert field_errors(response) == {"query": {"q": [inputs.TEXT_REFUSED]}}
    assert client.get(f"/api/people?institution_id={inst}&q=ab", headers=admin).status_code == 200


def test_nul_in_a_header_is_refused(client, admin, stored_events):
    headers = {**admin, "X-Correlation-ID": "a\x00b"}
    response = client.post("/api/institutions", json=INSTITUTION, headers=headers)
    assert response.status_code == 400
    assert stored_events() == 0


def test_nul_in_a_path_names_nothing(client, admin):
    assert client.get("/api/people/a%00b", headers=admin).status_code == 404


@pytest.mark.parametrize("name", SERVICES)
def test_audit_positions_beyond_64_bits_are_refused_on_every_service(name, database_url):
    app = build(name, database_url)
    admin = auth_headers(Grant(ADMIN), user="admin-1")
    try:
        client = app.test_client()
        response = client.get("/api/audit?before=9223372036854775808", headers=admin)
        assert "before" in field_errors(response)["query"]
        largest = client.get("/api/audit?before=9223372036854775807", headers=admin)
        assert largest.status_code == 200
        assert client.get("/api/audit?before=-1", headers=admin).status_code == 422
    finally:
        app.extensions["tandem"].engine.dispose()


# --- the roster takes files larger than the default cap --------------------------------------------


@pytest.fixture
def cycle_id(client, admin) -> str:
    def post(path: str, body: dict) -> dict:
        response = client.post(path, json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    inst = post("/api/institutions", INSTITUTION)["id"]
    program = post(
        f"/api/institutions/{inst}/programs", {"name": "P", "program_type": "big_sibling"}
    )
    return post(f"/api/programs/{program['id']}/cycles", {"name": "2026"})["id"]


def test_a_roster_over_the_default_cap_is_still_read(client, admin, cycle_id, monkeypatch):
    monkeypatch.setenv("TANDEM_MAX_BODY_BYTES", "1000")
    csv = "name,email,role,training_level\n" + "Ada,not-an-email,mentee,PGY1\n" * 100
    response = client.post(
        f"/api/cycles/{cycle_id}/roster", data=csv, headers={**admin, "Content-Type": "text/csv"}
    )
    body = response.json
    assert response.status_code == 422, body
    assert set(body) == {"code", "message", "errors"}
    first = body["errors"]["rows"][0]
    assert (first["line"], first["column"]) == (2, "email")


def test_a_roster_over_its_own_cap_is_413(client, admin, cycle_id, monkeypatch):
    monkeypatch.setenv("ROSTER_MAX_BYTES", "1000")
    csv = "name,email,role,training_level\n" + "Ada,ada@example.org,mentee,PGY1\n" * 10_000
    response = client.post(
        f"/api/cycles/{cycle_id}/roster", data=csv, headers={**admin, "Content-Type": "text/csv"}
    )
    assert response.status_code == 413


# --- what the OpenAPI says ---------------------------------------------------------------------------


def openapi(name: str, tmp_path) -> dict:
    app = build(name, f"sqlite:///{tmp_path / name}.db")
    try:
        return app.test_client().get("/api/openapi.json").json
    finally:
        app.extensions["tandem"].engine.dispose()


@pytest.mark.parametrize("name", SERVICES)
def test_every_operation_documents_the_shared_errors(name, tmp_path):
    spec = openapi(name, tmp_path)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            missing = {str(s) for s in inputs.ERROR_STATUSES} - set(operation["responses"])
            assert not missing, f"{method.upper()} {path} lacks {missing}"


def test_the_roster_refusal_is_documented_as_sent(tmp_path):
    roster = openapi("enrollment", tmp_path)["paths"]["/api/cycles/{cycle_id}/roster"]["post"]
    schema = roster["responses"]["422"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RosterRejectedOut"}
    assert set(roster["requestBody"]["content"]) == {"text/csv", "multipart/form-data"}


def test_the_export_is_documented_as_csv(tmp_path):
    export = openapi("feedback", tmp_path)["paths"]["/api/cycles/{cycle_id}/export.csv"]["get"]
    assert list(export["responses"]["200"]["content"]) == ["text/csv"]
    assert "X-Tandem-Suppressed" in export["responses"]["200"]["headers"]


def test_notification_timestamps_carry_their_offset(database_url):
    from services.notifications import delivery

    app = build("notifications", database_url)
    try:
        client = app.test_client()
        response = client.post(
            "/api/people/p-1/account-links",
            json={"kind": "set", "url": "http://127.0.0.1/x", "email": "p@example.org"},
            headers=auth_headers(Grant(SYSTEM), user="system"),
        )
        assert response.status_code == 202, response.json
        delivery.Sender(app.extensions["tandem"]).run_once()
        mail = client.get("/api/local-mail", headers=auth_headers(Grant(ADMIN))).json
        assert mail and all(m["kept_at"].endswith("+00:00") for m in mail)
    finally:
        app.extensions["tandem"].engine.dispose()


# --- the server in front: gunicorn's own refusals are JSON too ---------------------------------------


def test_gunicorn_answers_an_overlong_address_or_header_with_json(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "TANDEM_VAR_DIR": str(tmp_path / "var"),
        "NOTIFICATIONS_DATABASE_URL": f"sqlite:///{tmp_path / 'n.db'}",
        "TANDEM_BIND_HOST": "127.0.0.1",
    }
    code = (
        "from services.eventkit.serve import serve; "
        f"serve('services.notifications.app:create_app', {port}, 'notifications')"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _get(port, "/healthz").startswith(b"HTTP/1.1 200"), timeout_s=30)
        answer = _get(port, "/api/" + "x" * 10_000)
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 414")
        assert b"Content-Type: application/json" in head
        assert json.loads(body)["code"] == 414
        head, _, body = _get(port, "/healthz", "X-Big: " + "x" * 10_000).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431")
        assert json.loads(body)["code"] == 431
    finally:
        server.terminate()
        server.wait(timeout=15)


def _get(port: int, path: str, header: str = "X-Test: 1") -> bytes:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: x\r\n{header}\r\nConnection: close\r\n\r\n".encode()
            )
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)
    except OSError:
        time.sleep(0.1)
        return b""
