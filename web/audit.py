"""The audit trail as the pages show it: every service's own trail (GET /api/audit), merged
newest first, paged with one cursor per feed, and each store's hash-chain check.

A feed is one service's trail, for one institution or for all. A page takes up to PAGE_SIZE
events from each feed, merges them by time and keeps the newest PAGE_SIZE; the next page asks
each feed for events older than the last one it contributed, so nothing is skipped or shown
twice. The coordinator's page and the consortium admin's page both render through `show`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from flask import Response, abort, g, request, url_for

from services.eventkit.config import SERVICES
from services.eventkit.contracts import enrollment, feedback, notifications, pairing
from services.eventkit.envelope import parse_time

from .calls import call, can, fetch, fetch_or
from .identity import ROLE_LABELS, current_user
from .rendering import render, wants_fragment

PAGE_SIZE = 50
TEMPLATE = "oversight/audit.html"
EXHAUSTED = 0  # a feed's cursor once it has nothing older (positions start at 1)

EVENT_TYPES: dict[str, list[str]] = {
    "enrollment": enrollment.registry.names(),
    "pairing": pairing.registry.names(),
    "feedback": feedback.registry.names(),
    "notifications": notifications.registry.names(),
}


@dataclasses.dataclass(frozen=True)
class Feed:
    service: str
    institution_id: str | None  # None: every institution (consortium admin only)

    @property
    def key(self) -> str:
        return f"{self.service}:{self.institution_id or '*'}"


@dataclasses.dataclass(frozen=True)
class Row:
    service: str
    position: int
    event_type: str
    stream_id: str
    institution_id: str | None
    actor_id: str
    actor_role: str
    occurred_at: dt.datetime
    hash: str

    @property
    def short_hash(self) -> str:
        return self.hash[:12]

    @property
    def stream_kind(self) -> str:
        kind, _ = _split_stream(self.stream_id)
        return kind

    @property
    def stream_short(self) -> str:
        _, ident = _split_stream(self.stream_id)
        return ident[:8]


def _split_stream(stream_id: str) -> tuple[str, str]:
    """("survey-response", "<uuid>") from "survey-response-<uuid>"; ids end in a 36-char UUID."""
    if len(stream_id) > 37 and stream_id[-37] == "-":
        return stream_id[:-37], stream_id[-36:]
    return "", stream_id


@dataclasses.dataclass(frozen=True)
class Page:
    rows: list[Row]
    cursor: dict[str, int]  # feed key -> `before` for the next page, EXHAUSTED when done

    @property
    def more(self) -> bool:
        return any(before != EXHAUSTED for before in self.cursor.values())


@dataclasses.dataclass(frozen=True)
class FeedAnswer:
    """One feed's answer: its events newest first, and whether older ones remain."""

    feed: Feed
    events: list[dict[str, Any]]
    next_before: int | None


def parse_cursor(values: Iterable[str]) -> dict[str, int]:
    """`before` query values "service:institution:position" -> {feed key: position}."""
    cursor: dict[str, int] = {}
    for value in values:
        key, _, position = value.rpartition(":")
        if key and position.isdigit():
            cursor[key] = int(position)
    return cursor


def cursor_values(cursor: dict[str, int]) -> list[str]:
    return [f"{key}:{before}" for key, before in sorted(cursor.items())]


def merge(answers: Sequence[FeedAnswer], limit: int = PAGE_SIZE) -> Page:
    """The newest `limit` events of all feeds, and where each feed's next page starts."""
    streams = [[(answer.feed, event) for event in answer.events] for answer in answers]
    newest = heapq.merge(*streams, key=lambda item: item[1]["occurred_at"], reverse=True)
    taken = list(itertools.islice(newest, limit))
    used: dict[str, list[int]] = {}
    for feed, event in taken:
        used.setdefault(feed.key, []).append(event["position"])
    cursor: dict[str, int] = {}
    for answer in answers:
        shown = used.get(answer.feed.key, [])
        if len(shown) == len(answer.events):  # all it gave is shown: go on where it said
            cursor[answer.feed.key] = answer.next_before or EXHAUSTED
        elif shown:  # the rest of what it gave comes next
            cursor[answer.feed.key] = shown[-1]
        else:  # none of it made this page: ask again from its newest
            cursor[answer.feed.key] = answer.events[0]["position"] + 1
    return Page([_row(feed, event) for feed, event in taken], cursor)


def _row(feed: Feed, event: dict[str, Any]) -> Row:
    actor = event.get("actor") or {}
    return Row(
        service=feed.service,
        position=int(event["position"]),
        event_type=str(event["event_type"]),
        stream_id=str(event["stream_id"]),
        institution_id=event.get("institution_id"),
        actor_id=str(actor.get("id", "")),
        actor_role=str(actor.get("role", "")),
        occurred_at=parse_time(str(event["occurred_at"])),
        hash=str(event["hash"]),
    )


def load(
    feeds: Sequence[Feed],
    cursor: dict[str, int],
    event_type: str = "",
    actor: str = "",
    limit: int = PAGE_SIZE,
) -> Page:
    """One page of the merged trail; feeds missing from `cursor` start at their newest."""
    answers = []
    for feed in feeds:
        before = cursor.get(feed.key)
        if before == EXHAUSTED:
            continue
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        if feed.institution_id:
            params["institution_id"] = feed.institution_id
        if event_type:
            params["event_type"] = event_type
        if actor:
            params["actor"] = actor
        body = fetch(feed.service, "/api/audit", params)
        answers.append(FeedAnswer(feed, body["events"], body["next_before"]))
    page = merge(answers, limit)
    # Feeds already finished stay finished on the next page.
    return Page(page.rows, {**{f.key: EXHAUSTED for f in feeds}, **page.cursor})


@dataclasses.dataclass(frozen=True)
class Chain:
    service: str
    ok: bool
    events_checked: int
    break_position: int | None = None
    reason: str = ""


def chains(services: Sequence[str], institution_id: str | None) -> list[Chain]:
    """Each service's own check of its whole store's hash chains."""
    found = []
    params = {"institution_id": institution_id} if institution_id else None
    for service in services:
        body = fetch(service, "/api/audit/verify", params)
        broken = body.get("first_break") or {}
        found.append(
            Chain(
                service=service,
                ok=bool(body["ok"]),
                events_checked=int(body["events_checked"]),
                break_position=broken.get("position"),
                reason=str(broken.get("reason", "")),
            )
        )
    return found


def actor_names(actor_ids: Iterable[str]) -> dict[str, str]:
    """Names of the people who acted, as far as the signed-in user may read them ("" if not)."""
    cache: dict[str, str] = g.setdefault("audit_actor_names", {})
    for actor_id in set(actor_ids) - {"", "system"} - set(cache):
        reply = call("enrollment", "GET", f"/api/people/{quote(actor_id, safe='')}")
        body = reply.body if reply.ok and isinstance(reply.body, dict) else {}
        cache[actor_id] = str(body.get("name", ""))
    return cache


def show(
    endpoint: str,
    scope: str,
    institutions: dict[str, str],
    feed_institutions: Sequence[str | None],
    verify_institution: str | None,
) -> Response:
    """The audit page (or the rows, or the chain check, for an htmx swap).

    `institutions`: id -> name of those the filter offers; `feed_institutions`: whose events to
    read (None: all, for the consortium admin); `verify_institution` is named to the service's
    check the way it requires (coordinators name theirs).
    """
    args = request.args
    service = args.get("service", "")
    services = [service] if service in SERVICES else list(SERVICES)
    event_type = args.get("event_type", "")
    known = {t for types in EVENT_TYPES.values() for t in types}
    if event_type not in known:
        event_type = ""
    actor = args.get("actor", "").strip()[:200]
    filters = {
        "service": service if service in SERVICES else "",
        "event_type": event_type,
        "actor": actor,
    }
    if scope == "admin" or len(institutions) > 1:
        filters["institution"] = args.get("institution", "")
    feeds = [Feed(s, i) for s in services for i in feed_institutions]
    context: dict[str, Any] = {
        "endpoint": endpoint,
        "scope": scope,
        "filters": filters,
        "institutions": institutions,
        "services": SERVICES,
        "event_types": EVENT_TYPES,
        "role_labels": ROLE_LABELS,
        "query": _query(filters),
        "everyone_query": _query({**filters, "actor": ""}),
        "verify_url": url_for(endpoint, **_query(filters), verify=1),
        "chains": None,
    }
    if args.get("verify"):
        context["chains"] = chains(services, verify_institution)
        if wants_fragment():
            return render(TEMPLATE, fragment="chains", **context)
    cursor = parse_cursor(args.getlist("before"))
    page = load(feeds, cursor, event_type, actor)
    context.update(
        page=page,
        older=bool(cursor),
        older_url=url_for(endpoint, **_query(filters), before=cursor_values(page.cursor)),
        names=actor_names([*(r.actor_id for r in page.rows), actor]),
    )
    return render(TEMPLATE, fragment="rows" if cursor else None, **context)


def _query(filters: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in filters.items() if v}


def coordinator_page() -> Response:
    """The trail of the institutions the signed-in coordinator coordinates."""
    user = current_user()
    grants = user.grants if user else ()
    mine = sorted(
        {
            g.institution_id
            for g in grants
            if g.institution_id and can("institution.audit", g.institution_id)
        }
    )
    if not mine:
        abort(403)
    names = {i["id"]: i["name"] for i in fetch_or("enrollment", "/api/institutions", [])}
    institutions = {i: names.get(i, "your institution") for i in mine}
    chosen = request.args.get("institution", "")
    if chosen and chosen not in institutions:
        abort(403)
    feeds = [chosen] if chosen else mine
    return show("oversight.audit", "coordinator", institutions, feeds, feeds[0])


def admin_page() -> Response:
    """The whole consortium's trail, or one institution's."""
    institutions = {i["id"]: i["name"] for i in fetch("enrollment", "/api/institutions")}
    chosen = request.args.get("institution", "")
    if chosen and chosen not in institutions:
        abort(404)
    feed = chosen or None
    return show("admin.audit", "admin", institutions, [feed], feed)
