"""The suite status page (staff only) and the web's readiness, against real services over HTTP."""

from __future__ import annotations

from html.parser import HTMLParser

from services.eventkit import config
from services.eventkit.auth import SYSTEM
from web.app import create_app


class RowReader(HTMLParser):
    """Reads the status table into {service: [cell texts]}."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "tr":
            self._row = []
        elif tag in ("th", "td") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._row is not None and self._cell is not None:
            self._row.append(" ".join(" ".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row:
            if self._row[0] != "Service":
                self.rows[self._row[0]] = self._row[1:]
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(html: str) -> dict[str, list[str]]:
    reader = RowReader()
    reader.feed(html)
    return reader.rows


def test_status_full_page_and_htmx_fragment_from_one_route(staff_client):
    client = staff_client()

    page = client.get("/status")
    fragment = client.get("/status", headers={"HX-Request": "true"})

    assert page.status_code == fragment.status_code == 200
    page_html, fragment_html = page.get_data(as_text=True), fragment.get_data(as_text=True)
    assert "<html" in page_html
    assert "<h1>Suite status</h1>" in page_html
    assert "<html" not in fragment_html
    assert "<h1>" not in fragment_html
    assert fragment_html.lstrip().startswith('<div id="suite-status"')
    # The same named block: the fragment is the table the page embeds.
    assert '<div id="suite-status"' in page_html
    assert rows(fragment_html) == rows(page_html)
    assert len(rows(fragment_html)) == 4
    assert "HX-Request" in page.headers["Vary"]
    assert page.headers["Cache-Control"] == "no-store"


def test_fragment_polls_itself_politely(staff_client):
    html = staff_client().get("/status", headers={"HX-Request": "true"}).get_data(as_text=True)
    opening = html[: html.index(">")]

    assert 'hx-get="/status"' in opening
    assert 'hx-trigger="every 3s"' in opening
    assert 'hx-swap="outerHTML"' in opening
    assert 'aria-live="polite"' in opening


def test_history_restore_gets_the_full_page(staff_client):
    headers = {"HX-Request": "true", "HX-History-Restore-Request": "true"}

    assert "<html" in staff_client().get("/status", headers=headers).get_data(as_text=True)


def test_counts_from_a_live_service_are_shown(staff_client, start_service, point):
    enrollment = start_service("enrollment", counts={"people": 12, "programs": 3, "cycles": 1200})
    point("enrollment", enrollment.url)

    response = staff_client().get("/status")

    assert response.status_code == 200
    table = rows(response.get_data(as_text=True))
    assert table["Enrollment"] == ["Ready", "cycles 1,200 people 12 programs 3"]
    # The web called with a token the service verified, minted for the system principal.
    assert enrollment.rejected == 0
    assert [c.user_id for c in enrollment.callers] == ["system"]
    assert enrollment.callers[0].grants[0].role == SYSTEM


def test_unreachable_services_are_shown_and_the_page_still_works(
    staff_client, start_service, point
):
    pairing = start_service("pairing", counts={"pairings": 4})
    point("pairing", pairing.url)

    response = staff_client().get("/status")

    assert response.status_code == 200
    table = rows(response.get_data(as_text=True))
    assert table["Pairing"] == ["Ready", "pairings 4"]
    for name in ("Enrollment", "Feedback", "Notifications"):
        assert table[name] == ["Unreachable", "Counts unavailable"]
    assert "1 of 4 services ready" in response.get_data(as_text=True)


def test_a_service_that_is_up_but_not_ready(staff_client, start_service, point):
    feedback = start_service("feedback", ready=False, counts={"meetings": 2})
    point("feedback", feedback.url)

    table = rows(staff_client().get("/status").get_data(as_text=True))

    assert table["Feedback"] == ["Not ready", "meetings 2"]


def test_a_service_that_rejects_the_token_shows_no_counts(staff_client, start_service, point):
    notifications = start_service("notifications", key="another-key-" + "x" * 40)
    point("notifications", notifications.url)

    table = rows(staff_client().get("/status").get_data(as_text=True))

    assert table["Notifications"] == ["Ready", "Counts unavailable (HTTP 401)"]
    assert notifications.rejected == 1


def test_status_shows_only_aggregate_numbers(staff_client, start_service, point):
    enrollment = start_service(
        "enrollment",
        stats_body={
            "service": "enrollment",
            "counts": {"people": 2, "latest_person": "Dr. Ada Example", "flag": True},
        },
    )
    point("enrollment", enrollment.url)

    html = staff_client().get("/status").get_data(as_text=True)

    assert rows(html)["Enrollment"] == ["Ready", "people 2"]
    assert "Ada Example" not in html


def test_readyz_is_503_while_services_are_down(make_client):
    response = make_client().get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["ready"] is False
    assert body["checks"] == {"database": True, **dict.fromkeys(config.SERVICES, False)}


def test_readyz_lists_each_service(make_client, start_service, point):
    enrollment = start_service("enrollment")
    point("enrollment", enrollment.url)

    response = make_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"] == {
        "database": True,
        "enrollment": True,
        "pairing": False,
        "feedback": False,
        "notifications": False,
    }


def test_readyz_is_200_when_every_service_answers(make_client, start_service, point):
    service = start_service("enrollment")
    for name in config.SERVICES:
        point(name, service.url)

    response = make_client().get("/readyz")

    assert response.status_code == 200
    assert response.get_json() == {
        "ready": True,
        "service": "web",
        "checks": {"database": True, **dict.fromkeys(config.SERVICES, True)},
    }


def test_readyz_is_503_while_the_web_database_is_not_migrated(start_service, point):
    service = start_service("enrollment")
    for name in config.SERVICES:
        point(name, service.url)

    response = create_app().test_client().get("/readyz")

    assert response.status_code == 503
    assert response.get_json()["checks"]["database"] is False


def test_a_coordinator_sees_readiness_but_not_consortium_wide_counts(
    make_client, start_service, point
):
    from web_support import sign_in_as

    from services.eventkit.auth import COORDINATOR, Grant

    enrollment = start_service("enrollment", counts={"people": 12, "programs": 3})
    point("enrollment", enrollment.url)
    client = make_client()
    sign_in_as(client, Grant(COORDINATOR, "inst-a"))

    table = rows(client.get("/status").get_data(as_text=True))
    assert table["Enrollment"][0] == "Ready"
    assert "people 12" not in " ".join(table["Enrollment"])


def test_a_worker_answering_without_its_relay_leaves_the_page_working(staff_client, monkeypatch):
    """A worker whose /readyz says nothing of its relay (starting, or another version) is shown
    without outbox figures rather than breaking the page."""
    from web import suite_status

    monkeypatch.setattr(suite_status, "worker_health", lambda client: {"pairing": {"ready": False}})

    response = staff_client().get("/status")

    assert response.status_code == 200
    assert "Pairing worker" in response.get_data(as_text=True)
