"""The web's one client: any answer is a Reply, and every way of getting no usable answer is the
one ServiceError, whoever calls (pages, sign-in, password links)."""

from __future__ import annotations

import pytest

from services.eventkit import config
from services.eventkit.auth import TokenSigner
from web import directory, outbox
from web.client import Client, Reply, ServiceError


def client_for(**urls: str) -> Client:
    return Client(urls, TokenSigner(config.token_key(), config.token_ttl_seconds()))


def test_no_answer_is_a_service_error_naming_the_service(dead_url):
    client = client_for(enrollment=dead_url)

    with pytest.raises(ServiceError) as raised:
        client.request("enrollment", "GET", "/api/institutions")

    assert raised.value.service == "enrollment"
    assert raised.value.detail == "no answer"


def test_a_refusal_is_a_reply_not_an_error(start_service):
    fake = start_service("pairing")

    reply = client_for(pairing=fake.url).request("pairing", "GET", "/api/stats")

    assert reply.status == 401 and not reply.ok
    assert fake.rejected == 1


def test_a_system_token_is_accepted(start_service):
    fake = start_service("pairing", counts={"pairings": 3})
    client = client_for(pairing=fake.url)

    reply = client.request("pairing", "GET", "/api/stats", token=client.system_token())

    assert reply.expect("pairing", dict) == {"service": "pairing", "counts": {"pairings": 3}}
    assert [p.user_id for p in fake.callers] == ["system"]


def test_an_answer_of_the_wrong_kind_is_a_service_error():
    with pytest.raises(ServiceError, match="enrollment: HTTP 200"):
        Reply(200, {"id": "x"}).expect("enrollment", list)
    with pytest.raises(ServiceError, match="enrollment: HTTP 503"):
        Reply(503, None).expect("enrollment", dict)


def test_sign_in_look_ups_and_password_links_raise_the_same_error(dead_url):
    client = client_for(enrollment=dead_url, notifications=dead_url)

    with pytest.raises(ServiceError):
        directory.person_by_email(client, "ada@example.org")
    with pytest.raises(ServiceError):
        directory.grants_of(client, "person-1")
    with pytest.raises(ServiceError):
        outbox.send_link(
            client, outbox.Recipient("person-1", "ada@example.org"), "http://x/p", "reset"
        )
    assert outbox.messages(client) is None  # the development page shows "no mail" instead
