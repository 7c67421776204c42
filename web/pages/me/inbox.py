"""The inbox of notifications (polled with htmx) and notification preferences."""

from __future__ import annotations

import hashlib

from flask import abort, flash, make_response, request
from flask.typing import ResponseReturnValue

from services.eventkit.contracts.notifications import CHANNELS

from ...calls import call, fetch, fetch_or
from ...rendering import render, wants_fragment
from ..blueprints import me as bp
from .labels import CHANNEL_LABELS, NOTICE_LABELS
from .participation import back_to, refused, signed_in


def inbox_signature(items: list[dict]) -> str:
    """Changes whenever a notification arrives or is read: the poll answers 204 while it holds."""
    state = ",".join(f"{n['id']}:{int(bool(n['read']))}" for n in items)
    return hashlib.sha256(state.encode()).hexdigest()[:16]


def unread_text(items: list[dict]) -> str:
    unread = sum(1 for n in items if not n["read"])
    if not unread:
        return "You have no unread notifications."
    return f"You have {unread} unread notification{'s' if unread != 1 else ''}."


def _notifications() -> list[dict]:
    return fetch("notifications", f"/api/people/{signed_in().person_id}/notifications")


def _inbox_page(
    status: int = 200, errors: dict[str, str] | None = None, chosen: dict | None = None
) -> ResponseReturnValue:
    me = signed_in()
    items = _notifications()
    signature = inbox_signature(items)
    if wants_fragment() and request.args.get("known") == signature:
        response = make_response("", 204)
        response.headers["Cache-Control"] = "no-store"
        return response
    preferences = fetch_or(
        "notifications", f"/api/people/{me.person_id}/notification-preferences", None
    )
    if preferences and chosen:
        preferences["preferences"].update(chosen)
    if preferences:  # in the order of NOTICE_LABELS: what concerns participants first
        order = list(NOTICE_LABELS)
        preferences["ordered"] = sorted(
            preferences["preferences"].items(),
            key=lambda kv: (order.index(kv[0]) if kv[0] in order else len(order), kv[0]),
        )
    return render(
        "me/inbox.html",
        fragment="inbox_list",
        status=status,
        items=items,
        status_text=unread_text(items),
        signature=signature,
        oob=wants_fragment(),
        preferences=preferences,
        errors=errors or {},
        channels=CHANNELS,
        channel_labels=CHANNEL_LABELS,
        notice_labels=NOTICE_LABELS,
    )


# Everyone signed in has an inbox (coordinators are told of concerns there too).
@bp.get("/inbox")
def inbox() -> ResponseReturnValue:
    return _inbox_page()


@bp.post("/inbox/<notification_id>/read")
def mark_read(notification_id: str) -> ResponseReturnValue:
    me = signed_in()
    path = f"/api/people/{me.person_id}/notifications/{notification_id}/read"
    reply = call("notifications", "POST", path)
    if not reply.ok:
        abort(reply.status if reply.status in (403, 404) else 409)
    if not wants_fragment():
        return back_to("me.inbox", f"notice-{notification_id}")
    items = _notifications()
    return render(
        "me/inbox.html",
        fragment="inbox_item",
        n=reply.body,
        status_text=unread_text(items),
        signature=inbox_signature(items),
        item_oob=True,
        focus=True,
        notice_labels=NOTICE_LABELS,
    )


@bp.post("/inbox/preferences")
def preferences() -> ResponseReturnValue:
    me = signed_in()
    path = f"/api/people/{me.person_id}/notification-preferences"
    current = fetch("notifications", path)
    chosen = {
        kind: request.form.get(f"pref-{kind}", channel)
        for kind, channel in current["preferences"].items()
        if kind not in current["mandatory"]
    }
    reply = call("notifications", "PUT", path, json={"preferences": chosen})
    if reply.ok:
        flash("Your notification settings are saved.")
        return back_to("me.inbox", "preferences")
    return _inbox_page(422, refused(reply, depth=2), chosen)
