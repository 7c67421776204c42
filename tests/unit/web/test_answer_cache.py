"""Answers a service tags with an ETag are asked for again conditionally, per caller, and a 304
stands for the answer kept; the kept answers stay within their byte budget."""

from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from services.eventkit import config
from services.eventkit.auth import TokenSigner
from web.client import AnswerCache, Client, Reply


class Tagged:
    """A service whose one list is tagged with its version; it counts full answers and 304s."""

    def __init__(self) -> None:
        self.version, self.full, self.not_modified = 1, 0, 0

    def __call__(self, environ, start_response):
        request = Request(environ)
        tag = f'"v{self.version}"'
        if tag in request.headers.get("If-None-Match", ""):
            self.not_modified += 1
            return Response(status=304, headers={"ETag": tag})(environ, start_response)
        self.full += 1
        body = json.dumps([{"version": self.version}])
        headers = {"ETag": tag, "Content-Type": "application/json"}
        return Response(body, headers=headers)(environ, start_response)


@pytest.fixture
def tagged():
    service = Tagged()
    server = make_server("127.0.0.1", 0, service, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    service.url = f"http://127.0.0.1:{server.server_port}"
    yield service
    server.shutdown()
    thread.join(timeout=5)


def test_an_unchanged_answer_is_not_sent_again_and_a_changed_one_is(tagged):
    client = Client({"pairing": tagged.url}, TokenSigner(config.token_key(), 60))

    def read(caller):
        return client.request("pairing", "GET", "/api/list", caller=caller).body

    assert read("ada") == [{"version": 1}]
    assert read("ada") == [{"version": 1}]
    assert (tagged.full, tagged.not_modified) == (1, 1)
    assert read("bea") == [{"version": 1}]  # another caller's copy never stands for hers
    assert tagged.full == 2
    tagged.version = 2
    assert read("ada") == [{"version": 2}]
    assert read(None) == [{"version": 2}]  # no caller: asked plainly, nothing kept
    assert read(None) == [{"version": 2}]
    assert (tagged.full, tagged.not_modified) == (5, 1)


def test_kept_answers_stay_within_their_budget_least_recently_used_first():
    cache = AnswerCache(max_bytes=10)
    cache.put("a", "1", Reply(200, [], content=b"aaaa"))
    cache.put("b", "1", Reply(200, [], content=b"bbbb"))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("c", "1", Reply(200, [], content=b"cccc"))
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.put("d", "1", Reply(200, [], content=b"d" * 11))  # larger than the budget: not kept
    assert cache.get("d") is None and cache.get("a") and cache.get("c")
    cache.put("a", "2", Reply(200, [], content=b"a"))  # replaced, not counted twice
    assert cache.get("a")[0] == "2" and cache._bytes == 5
