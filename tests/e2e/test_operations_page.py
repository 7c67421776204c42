"""The consortium admin's operations page on the running suite: health, relay, lag and
dead-lettered messages with their errors; re-driving one is kept in the audit trail. Others are
refused; the status page keeps consortium-wide counts from coordinators; /favicon.ico answers."""

from __future__ import annotations

import uuid

import pytest
import requests
from live import seed_admin, seed_program

from services.eventkit.bus import KafkaPublisher
from support import wait_until

pytestmark = [pytest.mark.kafka]


def _poison(live) -> str:
    key = f"poison-{uuid.uuid4().hex[:8]}"
    publisher = KafkaPublisher(live.env["KAFKA_BOOTSTRAP_SERVERS"])
    publisher.publish(live.env["KAFKA_TOPIC_PREFIX"] + "tandem.enrollment.v1", key.encode(),
                      b"{not an event", [])  # fmt: skip
    publisher.flush()
    publisher.close()
    return key


def _pairing_letters(live, key: str) -> list[dict]:
    body = live.ok("pairing", "GET", "/api/operations")
    return [d for d in body["dead_letters"] if d["stream_id"] == key]


def test_the_admin_sees_a_dead_letter_and_sends_it_again_on_the_record(live_suite):
    admin = seed_admin(live_suite)
    key = _poison(live_suite)
    (letter,) = wait_until(lambda: _pairing_letters(live_suite, key), timeout_s=30, interval_s=1)
    web = live_suite.browser_session(admin["email"])

    page = web.get("/admin/operations")

    assert page.status_code == 200, page.text
    for name in ("Enrollment", "Pairing", "Feedback", "Notifications"):
        assert name in page.text
    assert letter["ref"] in page.text and "MalformedEvent" in page.text
    assert "consumer lag" in page.text and "waiting to publish" in page.text

    sent = web.form("/admin/operations/pairing/redrive", {"ref": letter["ref"]},
                    allow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text
    assert "sent again" in web.get("/admin/operations").text
    # Still poison: the pairing worker dead-letters it once more.
    wait_until(lambda: len(_pairing_letters(live_suite, key)) == 2, timeout_s=30, interval_s=1)

    def recorded() -> list[dict]:
        trail = live_suite.ok("enrollment", "GET", "/api/trail",
                              params={"event_type": "AccessRecorded", "actor": admin["id"]})  # fmt: skip
        rows = trail["entries"] if isinstance(trail, dict) else trail
        return [r for r in rows if "redrive" in str(r) and letter["ref"] in str(r)]

    assert wait_until(recorded, timeout_s=15)


def test_an_unknown_message_is_refused_and_changes_nothing(live_suite):
    admin = seed_admin(live_suite)
    web = live_suite.browser_session(admin["email"])
    topic = live_suite.env["KAFKA_TOPIC_PREFIX"] + "tandem.enrollment.v1.dlq"
    sent = web.form("/admin/operations/pairing/redrive", {"ref": f"{topic}:0:99999"})
    assert "nothing was changed" in sent.text
    assert web.form("/admin/operations/nowhere/redrive", {"ref": "x"}).status_code == 404


def test_coordinators_get_neither_operations_nor_consortium_counts(live_suite):
    program = seed_program(live_suite, mentors=1, mentees=1, wait_for_pairing=False)
    web = live_suite.browser_session(program.coordinator["email"])

    assert web.get("/admin/operations").status_code == 403
    status = web.get("/status")
    assert status.status_code == 200
    assert "Consortium-wide counts are for the consortium admin" in status.text
    assert "<dt>people</dt>" not in status.text


def test_the_site_has_an_icon(live_suite):
    icon = requests.get(f"{live_suite.url}/favicon.ico", timeout=10)
    assert icon.status_code == 200
    assert icon.headers["Content-Type"] == "image/vnd.microsoft.icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00" and b"PNG" in icon.content[:64]
