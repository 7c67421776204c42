"""/metrics on every process of the running suite: the numbers move when events flow through
the real broker, routes are labelled by their rule, and nothing personal is in a scrape."""

from __future__ import annotations

import re

import pytest
import requests
from live import seed_program
from prometheus_client.parser import text_string_to_metric_families

from services.eventkit import config
from support import wait_until

pytestmark = [pytest.mark.kafka]

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _worker_url(live, service: str) -> str:
    return f"http://127.0.0.1:{live.env[f'{service.upper()}_WORKER_HEALTH_PORT']}"


def _scrape(url: str) -> tuple[str, dict[tuple[str, tuple], float]]:
    response = requests.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }
    return response.text, samples


def _value(samples, name: str, **labels) -> float:
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def test_metrics_move_as_events_flow_through_the_suite(live_suite):
    enrollment_worker = _worker_url(live_suite, "enrollment")
    pairing_worker = _worker_url(live_suite, "pairing")
    enrollment_topic = config.topic("enrollment").removeprefix(config.topic_prefix())
    _, before_enrollment = _scrape(enrollment_worker)
    _, before_pairing = _scrape(pairing_worker)
    _, before_api = _scrape(live_suite.service_url("enrollment"))

    program = seed_program(live_suite, mentors=1, mentees=2)

    _, api = _scrape(live_suite.service_url("enrollment"))
    created = dict(process="enrollment", route="/api/people", method="POST", status="201")
    assert _value(api, "tandem_http_requests_total", **created) >= (
        _value(before_api, "tandem_http_requests_total", **created) + 4
    )
    person_route = dict(route="/api/people/<person_id>/roles", method="POST")
    assert _value(api, "tandem_http_request_duration_seconds_count", **person_route) >= 1
    assert not any(UUID.search(dict(ls).get("route", "")) for (_, ls) in api)

    _, after = _scrape(enrollment_worker)
    registered = "tandem_events_appended_total"
    assert _value(after, registered, event_type="PersonRegistered") >= (
        _value(before_enrollment, registered, event_type="PersonRegistered") + 4
    )
    assert _value(after, "tandem_projection_position") > _value(
        before_enrollment, "tandem_projection_position"
    )
    assert ("tandem_outbox_parked", (("service", "enrollment"),)) in after

    def consumed() -> bool:
        _, now = _scrape(pairing_worker)
        inbox = [v for (n, ls), v in now.items()
                 if n == "tandem_inbox_events" and dict(ls)["topic"].endswith(enrollment_topic)]  # fmt: skip
        return (
            bool(inbox)
            and sum(inbox) >= (_value(before_pairing, "tandem_inbox_events") + 4)
            and any(n == "tandem_consumer_lag" for n, _ in now)
        )

    wait_until(consumed, timeout_s=30)
    _, pairing = _scrape(pairing_worker)
    lag = {dict(ls)["partition"] for (n, ls) in pairing if n == "tandem_consumer_lag"}
    assert lag, "consumer lag is reported per partition"
    assert any(n == "tandem_dlq_messages" for n, _ in pairing)

    # Nothing personal in any scrape: no name, email or id of the people just registered.
    personal = [program.institution["name"]]
    for person in [program.coordinator, *program.mentors, *program.mentees]:
        personal += [person["name"], person["email"], person["id"]]
    urls = [live_suite.url, *(live_suite.service_url(s) for s in config.SERVICES)]
    urls += [_worker_url(live_suite, s) for s in config.SERVICES]
    for url in urls:
        text, _ = _scrape(url)
        assert "tandem_" in text
        leaked = [p for p in personal if p in text]
        assert not leaked, f"{url}/metrics holds {leaked}"
