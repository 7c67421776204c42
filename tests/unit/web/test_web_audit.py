"""Merging the services' audit trails newest first, and paging on with one cursor per feed."""

from __future__ import annotations

import datetime as dt
import random

from web.audit import EXHAUSTED, Feed, FeedAnswer, cursor_values, merge, parse_cursor

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _event(position: int, seconds: int) -> dict:
    at = (T0 + dt.timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")
    return {
        "position": position,
        "event_type": "Something",
        "stream_id": "thing-1",
        "institution_id": "i-1",
        "actor": {"id": "p-1", "role": "coordinator"},
        "occurred_at": at,
        "hash": "ab" * 32,
    }


class FakeServices:
    """Each feed's trail as the service would page it: newest first, `before` a position."""

    def __init__(self, trails: dict[Feed, list[dict]]) -> None:
        self.trails = trails

    def answer(self, feed: Feed, before: int | None, limit: int) -> FeedAnswer:
        older = [e for e in self.trails[feed] if before is None or e["position"] < before]
        older.sort(key=lambda e: e["position"], reverse=True)
        page = older[:limit]
        return FeedAnswer(feed, page, page[-1]["position"] if len(older) > limit else None)

    def walk(self, limit: int) -> list[tuple[str, int]]:
        cursor: dict[str, int] = {}
        seen: list[tuple[str, int]] = []
        for _ in range(1000):
            answers = [
                self.answer(feed, cursor.get(feed.key), limit)
                for feed in self.trails
                if cursor.get(feed.key) != EXHAUSTED
            ]
            page = merge(answers, limit)
            seen += [(row.service, row.position) for row in page.rows]
            cursor = {**{f.key: EXHAUSTED for f in self.trails}, **page.cursor}
            # The cursor survives a round trip through the page's query string.
            assert parse_cursor(cursor_values(cursor)) == cursor
            if not page.more:
                return seen
        raise AssertionError("paging never ended")


def test_one_page_is_the_newest_events_of_all_services():
    a, b = Feed("enrollment", "i-1"), Feed("pairing", "i-1")
    answers = [
        FeedAnswer(a, [_event(9, 90), _event(5, 50), _event(2, 20)], None),
        FeedAnswer(b, [_event(4, 80), _event(3, 10)], None),
    ]
    page = merge(answers, limit=3)
    assert [(r.service, r.position) for r in page.rows] == [
        ("enrollment", 9),
        ("pairing", 4),
        ("enrollment", 5),
    ]
    # Enrollment goes on below 5; pairing from its unshown event 3 (below 4).
    assert page.cursor == {a.key: 5, b.key: 4}
    assert page.more
    assert page.rows[0].short_hash == "ab" * 6
    assert page.rows[0].occurred_at == T0 + dt.timedelta(seconds=90)


def test_a_feed_that_gave_nothing_to_the_page_is_asked_again_from_its_newest():
    a, b = Feed("enrollment", None), Feed("feedback", None)
    answers = [
        FeedAnswer(a, [_event(7, 70), _event(6, 60)], 5),
        FeedAnswer(b, [_event(3, 10)], None),
    ]
    page = merge(answers, limit=2)
    assert page.cursor == {a.key: 5, b.key: 4}


def test_finished_feeds_end_the_paging():
    a = Feed("enrollment", "i-1")
    page = merge([FeedAnswer(a, [_event(1, 10)], None)], limit=5)
    assert page.cursor == {a.key: EXHAUSTED} and not page.more
    assert merge([FeedAnswer(a, [], None)], limit=5).cursor == {a.key: EXHAUSTED}


def test_paging_through_interleaved_trails_shows_each_event_once_newest_first():
    rng = random.Random(7)
    pool = rng.sample(range(10_000), 160)  # distinct times, so the expected order is exact
    trails: dict[Feed, list[dict]] = {}
    for service in ("enrollment", "pairing", "feedback", "notifications"):
        times = sorted(pool.pop() for _ in range(rng.randint(0, 40)))
        trails[Feed(service, "i-1")] = [_event(n + 1, t) for n, t in enumerate(times)]
    services = FakeServices(trails)
    for limit in (1, 3, 7, 50):
        seen = services.walk(limit)
        expected = sorted(
            ((f.service, e["position"], e["occurred_at"]) for f, es in trails.items() for e in es),
            key=lambda x: x[2],
            reverse=True,
        )
        assert seen == [(s, p) for s, p, _ in expected]


def test_cursor_values_parse_back_and_junk_is_ignored():
    cursor = {"enrollment:*": 12, "pairing:abc-1": EXHAUSTED}
    assert parse_cursor(cursor_values(cursor)) == cursor
    assert parse_cursor(["nonsense", "feedback:x:-3", ":5", "notifications:i:7"]) == {
        "notifications:i": 7
    }
