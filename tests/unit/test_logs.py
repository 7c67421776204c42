"""Log lines: one JSON object each, with the bound request context; ids a client sends are
kept only when they look like ids; a failed mail's line leaves the address out."""

from __future__ import annotations

import json
import logging
import smtplib

from services.eventkit import logs
from services.notifications.delivery import loggable


def _line(**extra) -> dict:
    record = logging.LogRecord("tandem.test", logging.INFO, __file__, 1, "hello %s", ("x",), None)
    for key, value in extra.items():
        setattr(record, key, value)
    return json.loads(logs.JsonFormatter("unit").format(record))


def test_a_line_carries_the_bound_context_and_only_while_bound():
    with logs.bound(request_id="r-1", correlation_id="c-1", institution="i-1", actor="p-1"):
        line = _line(fields={"route": "/api/x/<x_id>", "status": 200})
    assert line["msg"] == "hello x" and line["process"] == "unit" and line["level"] == "INFO"
    assert {k: line[k] for k in logs.FIELDS} == {
        "request_id": "r-1", "correlation_id": "c-1", "institution": "i-1", "actor": "p-1"
    }  # fmt: skip
    assert line["route"] == "/api/x/<x_id>" and line["status"] == 200
    assert not set(logs.FIELDS) & set(_line())


def test_ids_from_clients_are_kept_only_when_they_look_like_ids():
    assert (
        logs.safe_id("5f0c2b8e-1d2a-4c1b-9e77-0a1b2c3d4e5f")
        == "5f0c2b8e-1d2a-4c1b-9e77-0a1b2c3d4e5f"
    )
    assert logs.safe_id("Dana Kowalski <dana@example.org>") is None
    assert logs.safe_id("x" * 65) is None
    assert logs.safe_id(None) is None


def test_the_request_ids_are_passed_on_to_the_services():
    assert logs.forwarded() == {}
    with logs.bound(request_id="r-9"):
        assert logs.forwarded() == {"X-Request-ID": "r-9", "X-Correlation-ID": "r-9"}
    with logs.bound(request_id="r-9", correlation_id="c-7"):
        assert logs.forwarded()["X-Correlation-ID"] == "c-7"


def test_a_refused_address_stays_out_of_the_mail_log_line():
    refused = smtplib.SMTPRecipientsRefused({"dana.k@example.org": (550, b"no such user")})
    assert loggable(refused) == "SMTPRecipientsRefused"
    bounced = smtplib.SMTPDataError(554, b"rejected for dana.k@example.org")
    assert loggable(bounced) == "SMTPDataError (SMTP 554)"
